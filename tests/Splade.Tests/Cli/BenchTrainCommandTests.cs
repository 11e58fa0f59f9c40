using System.Text.Json;
using Xunit.Abstractions;

namespace Splade.Tests.Cli;

public sealed class BenchTrainCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_train_reports_step_encode_ratio_gemm_efficiency_and_memory_as_json()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Splade.Cli.Program.RunAsync(
            ["bench-train", "--model", TestData.Model("tiny-splade"), "--threads", "2", "--runs", "2", "--json"],
            new Splade.Cli.CliContext(TextReader.Null, stdout, stderr), default);
        output.WriteLine(stderr.ToString());
        Assert.True(rc == 0, stderr.ToString());
        using var doc = JsonDocument.Parse(stdout.ToString());
        JsonElement root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("Threads").GetInt32());
        Assert.Equal(64, root.GetProperty("Sequences").GetInt32());
        foreach (string metric in new[] { "StepSeconds", "EncodeSeconds", "StepOverEncode", "TrainingTokensPerSecond", "ForwardSeconds", "BackwardSeconds" })
        {
            JsonElement stat = root.GetProperty(metric);
            Assert.True(stat.GetProperty("Min").GetDouble() > 0, metric);
            Assert.True(stat.GetProperty("Min").GetDouble() <= stat.GetProperty("Median").GetDouble() && stat.GetProperty("Median").GetDouble() <= stat.GetProperty("Max").GetDouble(), metric);
        }
        Assert.Equal(12, root.GetProperty("Gemm").GetArrayLength());
        Assert.True(root.GetProperty("PeakGflopsAllThreadsWall").GetDouble() > 0);
        Assert.True(root.GetProperty("PeakWorkingSetMb").GetDouble() > 0);
    }

    [Fact]
    public void The_batch_is_deterministic_and_card_shaped()
    {
        int[][] a = Splade.Cli.Commands.BenchTrainCommand.Batch(30522, 256), b = Splade.Cli.Commands.BenchTrainCommand.Batch(30522, 256);
        Assert.Equal(64, a.Length);
        Assert.True(a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second)));
        double[] means = Enumerable.Range(0, 4).Select(c => a.Skip(16 * c).Take(16).Average(s => s.Length)).ToArray();
        double[] card = [9, 79, 76, 76];
        for (int c = 0; c < 4; c++) Assert.InRange(means[c], 0.75 * card[c], 1.25 * card[c]);
        Assert.All(a, s => Assert.InRange(s.Length, 3, 256));
    }
}
