using System.Text.Json;
using Xunit.Abstractions;

namespace Splade.Tests.Cli;

public sealed class PrecisionCommandTests(ITestOutputHelper output)
{
    private static async Task<(int Rc, string Stdout, string Stderr)> Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = await Splade.Cli.Program.RunAsync(argv, new Splade.Cli.CliContext(TextReader.Null, stdout, stderr), default);
        return (rc, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Precision_report_on_adi_prints_overlap_and_ndcg_for_both_reduced_modes()
    {
        if (!Splade.Tensors.Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        var (rc, stdout, stderr) = await Run("precision", "--model", TestData.Model("tiny-splade"), "--data", TestData.Path_("ir", "adi"), "--threads", "2", "--json");
        Assert.True(rc == 0, stderr);
        output.WriteLine(stdout);
        using var doc = JsonDocument.Parse(stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["fp32", "int8-decoder", "int8"], rows.Select(r => r.GetProperty("Mode").GetString()));
        Assert.Equal(1.0, rows[0].GetProperty("Documents").GetProperty("MeanJaccard").GetDouble());
        foreach (var row in rows.Skip(1))
        {
            var docs = row.GetProperty("Documents");
            Assert.Equal(82, docs.GetProperty("Count").GetInt32());
            Assert.InRange(docs.GetProperty("MeanJaccard").GetDouble(), 0.88, 0.999);
            Assert.InRange(row.GetProperty("Queries").GetProperty("MeanJaccard").GetDouble(), 0.88, 0.999);
            double ndcg = row.GetProperty("Ndcg10").GetDouble(), reference = row.GetProperty("ReferenceNdcg10").GetDouble();
            Assert.True(Math.Abs(ndcg - reference) <= 0.02, $"{ndcg} vs {reference}");
        }
    }

    [Fact]
    public async Task Bench_with_precision_reports_the_reduced_mode_beside_float32()
    {
        if (!Splade.Tensors.Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        var (rc, stdout, stderr) = await Run("bench", "--model", TestData.Model("tiny-splade"), "--threads", "1", "--runs", "1", "--seconds", "0.05", "--precision", "int8", "--json");
        Assert.True(rc == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        JsonElement int8 = doc.RootElement.GetProperty("Reduced").GetProperty("int8");
        Assert.True(int8.GetProperty("Docs80PerSecond").GetProperty("Median").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("Splade").GetProperty("Docs80PerSecond").GetProperty("Median").GetDouble() > 0);
    }

    [Theory]
    [InlineData("bf16", "vdpbf16ps")]
    [InlineData("fp8", "expected fp32, int8-decoder or int8")]
    public async Task Unavailable_precisions_are_usage_errors(string precision, string message)
    {
        var (rc, _, stderr) = await Run("encode", "--model", TestData.Model("tiny-splade"), "--precision", precision);
        Assert.NotEqual(0, rc);
        Assert.Contains(message, stderr);
    }
}
