using Xunit.Abstractions;
using System.Text.Json;

namespace Splade.Tests.Cli;

public sealed class BenchCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_reports_throughput_latency_flops_and_memory_as_json()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Splade.Cli.Program.RunAsync(
            ["bench", "--model", TestData.Model("tiny-splade"), "--threads", "1", "--runs", "2", "--seconds", "0.05", "--json"],
            new Splade.Cli.CliContext(TextReader.Null, stdout, stderr), default);
        output.WriteLine(stderr.ToString());
        Assert.True(rc == 0, stderr.ToString());
        using var doc = JsonDocument.Parse(stdout.ToString());
        JsonElement root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("Threads").GetInt32());
        Assert.True(root.GetProperty("PeakGflopsOneThreadPerCpuSecond").GetDouble() > 0);
        Assert.Equal(4, root.GetProperty("Gemm").GetArrayLength());
        JsonElement ours = root.GetProperty("Splade");
        foreach (string metric in new[] { "Docs80PerSecond", "Docs256PerSecond", "QueryP50Ms", "QueryP99Ms", "Gflops80" })
        {
            JsonElement stat = ours.GetProperty(metric);
            Assert.True(stat.GetProperty("Min").GetDouble() > 0, metric);
            Assert.True(stat.GetProperty("Min").GetDouble() <= stat.GetProperty("Median").GetDouble() && stat.GetProperty("Median").GetDouble() <= stat.GetProperty("Max").GetDouble(), metric);
        }
        Assert.True(ours.GetProperty("QueryP50Ms").GetProperty("Median").GetDouble() <= ours.GetProperty("QueryP99Ms").GetProperty("Median").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("OnnxRuntime").ValueKind);
    }

    [Fact]
    public async Task Missing_onnx_file_is_a_usage_error()
    {
        var stderr = new StringWriter();
        int rc = await Splade.Cli.Program.RunAsync(
            ["bench", "--model", TestData.Model("tiny-splade"), "--onnx", "/nonexistent/model.onnx"],
            new Splade.Cli.CliContext(TextReader.Null, new StringWriter(), stderr), default);
        Assert.NotEqual(0, rc);
        Assert.Contains("/nonexistent/model.onnx", stderr.ToString());
    }
}
