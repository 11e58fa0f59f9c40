using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Splade.Cli;
using Splade.Cli.Io;
using Splade.Sparse;

namespace Splade.Tests.Fuzz;

/// <summary>
/// The CLI's input readers (strict UTF-8 lines, JSON-lines texts, JSON-lines vectors) never crash on
/// arbitrary bytes: every failure is a <see cref="CliException"/> whose message starts with
/// <c>name:line:</c>. Valid input round-trips.
/// </summary>
public sealed partial class CliReaderFuzzTests
{
    private const int Dimension = 64;

    private static InputLines Stdin(byte[] bytes) => new(null, new CliContext(TextReader.Null, TextWriter.Null, TextWriter.Null, new MemoryStream(bytes)));

    [GeneratedRegex(@"^<stdin>:(\d+): ")]
    private static partial Regex Located();

    /// <summary>Reads everything; a failure must be located at a line that exists.</summary>
    private static void ReadAll(byte[] bytes, Func<InputLines, IEnumerable<object>> reader)
    {
        int lines = bytes.Count(b => b == (byte)'\n') + 1;
        FuzzRunner.ParsesOrThrows<CliException>(() =>
        {
            using var input = Stdin(bytes);
            foreach (object _ in reader(input)) { }
        }, e =>
        {
            var m = Located().Match(e.Message);
            if (!m.Success) return "expected <stdin>:<line>:";
            long line = long.Parse(m.Groups[1].Value);
            return line >= 1 && line <= lines ? null : $"line {line} of {lines}";
        });
    }

    private static readonly Func<InputLines, IEnumerable<object>>[] Readers =
    [
        input => Enumerable.Repeat<object>(0, 0).Concat(Lines(input)),
        input => TextRecords.Read(input, jsonLines: true).Cast<object>(),
        input => TextRecords.Read(input, jsonLines: false).Cast<object>(),
        input => VectorRecords.Read(input, Dimension).Cast<object>(),
    ];

    private static IEnumerable<object> Lines(InputLines input)
    {
        while (input.ReadLine() is { } line) yield return line;
    }

    private static string ValidTexts(Random r, int count) => string.Join("\n", Enumerable.Range(0, count).Select(i =>
        r.Next(3) == 0 ? JsonSerializer.Serialize(new { _id = i, title = "t" + i, text = Mutate.Text(r, 40) })
                       : JsonSerializer.Serialize(new { id = "d" + i, text = Mutate.Text(r, 40) })));

    private static string ValidVectors(Random r, int count) => string.Join("\n", Enumerable.Range(0, count).Select(i =>
    {
        var v = RandomVector(r);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", "v" + i);
            SparseFormats.WriteFields(w, v, SparseFormat.Indices, null);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }));

    private static SparseVector RandomVector(Random r)
    {
        var pairs = new Dictionary<int, float>();
        int n = r.Next(0, 10);
        for (int k = 0; k < n; k++) pairs[r.Next(Dimension)] = (float)(r.NextDouble() * 4 - 1) * MathF.Pow(10, r.Next(-30, 30));
        return SparseVector.FromPairs(Dimension, pairs);
    }

    [Fact]
    public void Random_bytes_never_crash_the_readers()
    {
        FuzzRunner.Run("cli random bytes", 41, FuzzRunner.Iterations(800), (r, _) =>
        {
            var bytes = new byte[r.Next(0, 300)];
            r.NextBytes(bytes);
            if (r.Next(2) == 0)
                for (int i = 0; i < bytes.Length; i++) if (r.Next(8) == 0) bytes[i] = (byte)'\n';
            return (Bytes: bytes, Reader: r.Next(Readers.Length));
        }, c => $"reader {c.Reader}: {FuzzRunner.Show(c.Bytes)}", c => ReadAll(c.Bytes, Readers[c.Reader]));
    }

    [Fact]
    public void Mutated_json_lines_read_or_fail_with_name_and_line()
    {
        FuzzRunner.Run("cli json lines", 42, FuzzRunner.Iterations(1500), (r, _) =>
        {
            bool vectors = r.Next(2) == 0;
            string valid = vectors ? ValidVectors(r, r.Next(1, 4)) : ValidTexts(r, r.Next(1, 4));
            Mutant m = r.Next(2) == 0 ? Mutate.Bytes(r, Encoding.UTF8.GetBytes(valid)) : MutateOneLine(r, valid);
            return (Mutant: m, Reader: vectors ? 3 : 1);
        }, c => $"reader {c.Reader}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}", c => ReadAll(c.Mutant.Data, Readers[c.Reader]));
    }

    private static Mutant MutateOneLine(Random r, string text)
    {
        string[] lines = text.Split('\n');
        int k = r.Next(lines.Length);
        Mutant m = Mutate.Json(r, lines[k]);
        lines[k] = "\u0001";
        string joined = string.Join("\n", lines);
        int at = joined.IndexOf('\u0001');
        byte[] data = [.. Encoding.UTF8.GetBytes(joined[..at]), .. m.Data, .. Encoding.UTF8.GetBytes(joined[(at + 1)..])];
        return new Mutant(data, $"line {k + 1}: {m.What}");
    }

    [Fact]
    public void Valid_records_round_trip()
    {
        FuzzRunner.Run("cli round trip", 43, FuzzRunner.Iterations(300), (r, _) => r.Next(), _ => "", seed =>
        {
            string texts = ValidTexts(new Random(seed), 5);
            string vectorLines = ValidVectors(new Random(seed), 5);
            // BOM, CRLF and a missing final newline are all accepted.
            byte[] withBom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(texts.Replace("\n", "\r\n"))];
            using (var input = Stdin(withBom))
            {
                var records = TextRecords.Read(input, jsonLines: true).ToArray();
                var expected = texts.Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
                Assert.Equal(expected.Length, records.Length);
                for (int i = 0; i < records.Length; i++)
                {
                    var e = expected[i];
                    string text = e.GetProperty("text").GetString()!;
                    if (e.TryGetProperty("title", out var title)) text = text.Length == 0 ? title.GetString()! : title.GetString() + " " + text;
                    Assert.Equal(text, records[i].Text);
                    Assert.Equal(i + 1, records[i].LineNumber);
                }
            }
            using (var input = Stdin(Encoding.UTF8.GetBytes(vectorLines + "\n")))
            {
                var records = VectorRecords.Read(input, Dimension).ToArray();
                Assert.Equal(5, records.Length);
                for (int i = 0; i < records.Length; i++)
                {
                    Assert.Equal("v" + i, records[i].Id!.Value.GetString());
                    var line = JsonDocument.Parse(vectorLines.Split('\n')[i]).RootElement;
                    Assert.Equal(line.GetProperty("indices").EnumerateArray().Select(x => x.GetInt32()), records[i].Vector.Indices.ToArray());
                    Assert.Equal(line.GetProperty("values").EnumerateArray().Select(x => x.GetSingle()), records[i].Vector.Values.ToArray());
                }
            }
        });
    }

    [Fact]
    public void Vector_lines_with_non_numeric_indices_are_located_errors()
    {
        var e = Assert.Throws<CliException>(() => VectorRecords.Parse("{\"indices\": [\"3\"], \"values\": [1]}", Dimension, "v.jsonl", 7));
        Assert.StartsWith("v.jsonl:7: ", e.Message);
    }
}
