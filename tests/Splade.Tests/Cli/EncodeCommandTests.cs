using System.Text;
using System.Text.Json;
using Splade.Tests.Models;

namespace Splade.Tests.Cli;

public class EncodeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-encode-").FullName;
    private static readonly string Model = TestData.Model("tiny-splade");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteInput(IEnumerable<string> lines)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string[] Texts => ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json")).Texts.Select(t => t.Text).ToArray();

    [Fact]
    public async Task Encode_writes_one_line_per_input_in_order_matching_the_library()
    {
        var texts = Texts;
        string input = WriteInput(texts.Select((t, i) => JsonSerializer.Serialize(new { id = $"t{i}", text = t })));
        string output = Path.Combine(_dir, "out.jsonl");
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", output, "--batch-size", "5");
        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(output);
        Assert.Equal(texts.Length, lines.Length);
        var expected = SparseEncoder.Load(Model).EncodeDocuments(texts);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal($"t{i}", doc.RootElement.GetProperty("id").GetString());
            Assert.Equal(expected[i].Indices.ToArray(), doc.RootElement.GetProperty("indices").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.Equal(expected[i].Values.ToArray(), doc.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        }
    }

    [Fact]
    public async Task Query_role_text_input_and_formats()
    {
        var stdin = Encoding.UTF8.GetBytes("where is oestrogen produced\n\nsecond line\n");
        var (code, stdout, stderr) = await CliRunner.RunWithInputAsync(stdin, "encode", "--model", Model, "--input-format", "text", "--role", "query", "--format", "tei", "--max-active-dims", "4");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        using var doc = JsonDocument.Parse(lines[0]);
        Assert.False(doc.RootElement.TryGetProperty("id", out _));
        Assert.Equal(4, doc.RootElement.GetProperty("embedding").GetArrayLength());

        (code, stdout, _) = await CliRunner.RunWithInputAsync(stdin, "encode", "--model", Model, "--input-format", "text", "--format", "tokens");
        Assert.Equal(0, code);
        using var tokens = JsonDocument.Parse(stdout.Split('\n')[0]);
        Assert.True(tokens.RootElement.GetProperty("tokens").EnumerateObject().Any());
    }

    [Fact]
    public async Task Invalid_utf8_stops_with_the_line_number_after_writing_earlier_lines()
    {
        var bytes = new List<byte>();
        bytes.AddRange(Encoding.UTF8.GetBytes("{\"id\": 1, \"text\": \"fine\"}\n"));
        bytes.AddRange(Encoding.UTF8.GetBytes("{\"id\": 2, \"text\": \"bad "));
        bytes.AddRange(new byte[] { 0xC3, 0x28 });
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}\n"));
        var (code, stdout, stderr) = await CliRunner.RunWithInputAsync(bytes.ToArray(), "encode", "--model", Model);
        Assert.Equal(2, code);
        Assert.Contains("<stdin>:2: invalid UTF-8", stderr);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("{\"id\": 1, \"text\": ", "malformed JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"id\": 1}", "missing \"text\"")]
    [InlineData("{\"id\": 1, \"text\": 5}", "\"text\" must be a string")]
    [InlineData("{\"id\": [1], \"text\": \"x\"}", "\"id\" must be a string or a number")]
    public async Task Malformed_lines_are_reported_with_their_number(string line, string message)
    {
        string input = WriteInput(["{\"text\": \"ok\"}", line]);
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input);
        Assert.Equal(2, code);
        Assert.Contains($":2: ", stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Usage_errors_are_clear()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--format", "parquet");
        Assert.Equal(2, code);
        Assert.Contains("Unknown format", stderr);
        (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--top_k", "3");
        Assert.Equal(2, code);
        Assert.Contains("--top_k", stderr);
        (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Path.Combine(_dir, "missing"), "--input", WriteInput(["{\"text\":\"x\"}"]));
        Assert.NotEqual(0, code);
        Assert.Contains("missing", stderr);
    }

    [Fact]
    public async Task Shards_cover_the_input_once_and_resume_gives_identical_output()
    {
        var texts = Enumerable.Range(0, 23).Select(i => $"document number {i} about aeronautics and fluids {new string('x', i)}").ToArray();
        string input = WriteInput(texts.Select((t, i) => JsonSerializer.Serialize(new { id = i, text = t })));
        string whole = Path.Combine(_dir, "whole.jsonl");
        Assert.Equal(0, (await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", whole)).Code);
        var wholeLines = File.ReadAllLines(whole);

        var shardLines = new List<string>();
        for (int s = 0; s < 3; s++)
        {
            string path = Path.Combine(_dir, $"shard{s}.jsonl");
            Assert.Equal(0, (await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", path, "--shard", $"{s}/3")).Code);
            var lines = File.ReadAllLines(path);
            Assert.Equal(Enumerable.Range(0, 23).Where(i => i % 3 == s).Select(i => wholeLines[i]), lines);
            // Interrupted: keep 3 complete lines plus a torn fourth, then rerun the same command.
            string torn = string.Join("\n", lines.Take(3)) + "\n" + lines[3][..10];
            File.WriteAllText(path, torn);
            var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", path, "--shard", $"{s}/3");
            Assert.True(code == 0, stderr);
            Assert.Contains("3 records already written", stderr);
            Assert.Equal(lines, File.ReadAllLines(path));
            shardLines.AddRange(lines);
        }
        Assert.Equal(wholeLines.OrderBy(l => l), shardLines.OrderBy(l => l));
    }

    [Fact]
    public async Task Resume_refuses_an_output_of_another_input()
    {
        string input = WriteInput(Enumerable.Range(0, 5).Select(i => JsonSerializer.Serialize(new { id = i, text = $"t{i}" })));
        string output = Path.Combine(_dir, "o.jsonl");
        File.WriteAllText(output, "{\"id\":99,\"indices\":[],\"values\":[]}\n");
        var (code, _, stderr) = await CliRunner.RunAsync("encode", "--model", Model, "--input", input, "--output", output, "--resume");
        Assert.Equal(2, code);
        Assert.Contains("cannot resume", stderr);
    }

    [Fact]
    public async Task Tokenize_prints_the_ids_the_network_sees()
    {
        var expected = ExpectedOutputs.Load(TestData.Model("tiny-splade.expected.json"));
        string input = WriteInput(expected.Texts.Select(t => JsonSerializer.Serialize(new { text = t.Text })));
        var (code, stdout, stderr) = await CliRunner.RunAsync("tokenize", "--model", Model, "--input", input);
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected.Texts.Length, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(expected.Texts[i].Ids, doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }
    }

    [Fact]
    public async Task Similarity_and_decode_verbs()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("similarity", "--model", Model, "--query", "where is oestrogen produced",
            "--document", "Estrogens are produced by the ovaries.", "--document", "Jupiter is a planet.", "--explain", "2");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var encoder = SparseEncoder.Load(Model);
        var q = encoder.EncodeQuery("where is oestrogen produced");
        var d = encoder.EncodeDocument("Jupiter is a planet.");
        Assert.Equal(q.Dot(d), doc.RootElement.GetProperty("scores")[0][1].GetSingle());

        (code, stdout, stderr) = await CliRunner.RunAsync("decode", "--model", Model, "--top-k", "3", "where is oestrogen produced");
        Assert.True(code == 0, stderr);
        using var dec = JsonDocument.Parse(stdout.Trim());
        Assert.Equal(3, dec.RootElement.GetProperty("tokens").GetArrayLength());
    }
}
