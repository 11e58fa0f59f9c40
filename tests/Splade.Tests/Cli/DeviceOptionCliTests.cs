using System.Text.Json;

namespace Splade.Tests.Cli;

/// <summary>`--device` on the verbs that load a model: ilgpu-cpu encodes as cpu does; cuda without a GPU is one clear line.</summary>
public sealed class DeviceOptionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-device-").FullName;
    private static readonly string Model = TestData.Model("tiny-splade");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Input(params string[] texts)
    {
        string path = Path.Combine(_dir, "in.jsonl");
        File.WriteAllLines(path, texts.Select((t, i) => JsonSerializer.Serialize(new { id = $"t{i}", text = t })));
        return path;
    }

    [Fact]
    public async Task Encode_on_ilgpu_cpu_writes_what_cpu_writes()
    {
        string input = Input("where is oestrogen produced", "The ovaries make estrogen.");
        string cpuOut = Path.Combine(_dir, "cpu.jsonl"), devOut = Path.Combine(_dir, "dev.jsonl");
        var cpu = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", cpuOut, "--device", "cpu");
        Assert.True(cpu.Code == 0, cpu.Stderr);
        var dev = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", devOut, "--device", "ilgpu-cpu");
        Assert.True(dev.Code == 0, dev.Stderr);
        string[] a = File.ReadAllLines(cpuOut), b = File.ReadAllLines(devOut);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            using JsonDocument x = JsonDocument.Parse(a[i]), y = JsonDocument.Parse(b[i]);
            int[] ix = x.RootElement.GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] iy = y.RootElement.GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(ix, iy);
            float[] vx = x.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            float[] vy = y.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.True(vx.Zip(vy).All(p => Math.Abs(p.First - p.Second) <= 1e-4f));
        }
    }

    [Fact]
    public async Task Encode_with_cuda_and_no_gpu_is_one_line_naming_what_is_missing()
    {
        string input = Input("a");
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", Path.Combine(_dir, "o.jsonl"), "--device", "cuda");
        if (code == 0) return; // a machine with a CUDA GPU
        Assert.Equal(1, code);
        Assert.StartsWith("splade encode: device cuda:0: ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_unknown_device_is_a_usage_error()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", Input("a"), "--output", Path.Combine(_dir, "o.jsonl"), "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("--device: Unknown device 'tpu'", stderr);
    }

    [Fact]
    public async Task A_reduced_precision_on_a_device_is_a_usage_error()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", Input("a"), "--output", Path.Combine(_dir, "o.jsonl"), "--device", "ilgpu-cpu", "--precision", "int8");
        Assert.Equal(2, code);
        Assert.Contains("cpu device only", stderr);
    }

    [Fact]
    public async Task Fp16_needs_a_device_and_runs_on_ilgpu_cpu()
    {
        string input = Input("where is oestrogen produced");
        var cpu = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", Path.Combine(_dir, "o.jsonl"), "--precision", "fp16");
        Assert.Equal(2, cpu.Code);
        Assert.Contains("--precision fp16 runs on a device", cpu.Stderr);
        var dev = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", Path.Combine(_dir, "h.jsonl"), "--precision", "fp16", "--device", "ilgpu-cpu");
        Assert.True(dev.Code == 0, dev.Stderr);
        Assert.Single(File.ReadAllLines(Path.Combine(_dir, "h.jsonl")));
    }

    [Fact]
    public async Task Bench_device_on_ilgpu_cpu_prints_json()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("bench-device", "--model", Model, "--device", "ilgpu-cpu", "--batch", "2",
            "--lengths", "8", "--runs", "1", "--seconds", "0.1", "--json");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("ilgpu-cpu", root.GetProperty("device").GetString());
        JsonElement row = root.GetProperty("documents")[0];
        Assert.Equal(8, row.GetProperty("tokens").GetInt32());
        Assert.True(row.GetProperty("docs_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("query_latency_p50_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("device_peak_bytes").GetInt64() >= root.GetProperty("device_weight_bytes").GetInt64());
        Assert.True(root.GetProperty("device_weight_bytes").GetInt64() > 0);
    }
}
