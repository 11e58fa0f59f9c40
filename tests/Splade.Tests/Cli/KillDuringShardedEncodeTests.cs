using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace Splade.Tests.Cli;

/// <summary>
/// A sharded `splade encode` killed (SIGKILL) mid-way and restarted with the same command ends with
/// output byte-identical to an uninterrupted run: every document written exactly once.
/// </summary>
public sealed class KillDuringShardedEncodeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-kill-encode-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Killed_and_restarted_shard_equals_an_uninterrupted_run()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Splade.Cli.dll");
        if (!File.Exists(cli)) { output.WriteLine($"SKIPPED: {cli} not built beside the tests"); return; }
        string model = TestData.Model("tiny-splade");
        string input = Path.Combine(_dir, "corpus.jsonl");
        var rng = new Random(5);
        string[] words = ["wing", "flow", "boundary", "layer", "shock", "heat", "transfer", "pressure", "supersonic", "plate", "cylinder", "theory"];
        File.WriteAllLines(input, Enumerable.Range(0, 4000).Select(i =>
            JsonSerializer.Serialize(new { id = $"doc{i}", text = string.Join(' ', Enumerable.Range(0, 20 + rng.Next(40)).Select(_ => words[rng.Next(words.Length)])) })));

        string reference = Path.Combine(_dir, "reference.jsonl");
        var (code, _, err) = await CliRunner.RunAsync("encode", "--model", model, "--input", input, "--output", reference, "--shard", "1/2");
        Assert.True(code == 0, err);
        long fullLength = new FileInfo(reference).Length;

        string target = Path.Combine(_dir, "shard1.jsonl");
        for (int round = 0; round < 2; round++)
        {
            using var p = Start(cli, model, input, target);
            var sw = Stopwatch.StartNew();
            // Kill once the run has added output of its own (mid-chunk: lines reach the file as buffers fill).
            long threshold = (File.Exists(target) ? new FileInfo(target).Length : 0) + 1;
            while (!p.HasExited && sw.Elapsed < TimeSpan.FromSeconds(120) && (File.Exists(target) ? new FileInfo(target).Length : 0) < threshold)
                Thread.Sleep(5);
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            output.WriteLine($"round {round}: killed with {new FileInfo(target).Length} of {fullLength} bytes written");
        }
        using (var p = Start(cli, model, input, target))
        {
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr);
            output.WriteLine(stderr.Trim());
        }
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(target));
    }

    private static Process Start(string cli, string model, string input, string target)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { cli, "encode", "--model", model, "--input", input, "--output", target, "--shard", "1/2", "--threads", "1" })
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
