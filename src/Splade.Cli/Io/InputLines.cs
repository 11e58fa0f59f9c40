using System.Text;

namespace Splade.Cli.Io;

/// <summary>
/// Reads a file or standard input line by line as strict UTF-8: a byte sequence that is not valid
/// UTF-8 is an error naming the line, never silently replaced. Accepts LF and CRLF, skips a BOM.
/// </summary>
internal sealed class InputLines : IDisposable
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly Stream _stream;
    private readonly bool _owns;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _start, _end;
    private bool _eof, _first = true;
    private readonly MemoryStream _line = new();

    public InputLines(string? path, CliContext context)
    {
        Name = path is null or "-" ? "<stdin>" : path;
        if (path is null or "-")
        {
            _stream = context.StdinStream ?? new MemoryStream(Encoding.UTF8.GetBytes(context.Stdin.ReadToEnd()));
            _owns = false;
        }
        else
        {
            if (!File.Exists(path)) throw new CliException($"input file not found: {path}");
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            _owns = true;
        }
    }

    /// <summary>Display name of the input for messages.</summary>
    public string Name { get; }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Next line without its terminator, or null at the end.</summary>
    /// <exception cref="CliException">The line is not valid UTF-8.</exception>
    public string? ReadLine()
    {
        _line.SetLength(0);
        while (true)
        {
            if (_start == _end)
            {
                if (_eof) break;
                _end = _stream.Read(_buffer, 0, _buffer.Length);
                _start = 0;
                if (_end == 0) { _eof = true; break; }
            }
            int nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (nl < 0)
            {
                _line.Write(_buffer, _start, _end - _start);
                _start = _end;
                continue;
            }
            _line.Write(_buffer, _start, nl - _start);
            _start = nl + 1;
            return Decode(ended: true);
        }
        return _line.Length == 0 ? null : Decode(ended: false);
    }

    private string Decode(bool ended)
    {
        LineNumber++;
        var bytes = _line.GetBuffer().AsSpan(0, (int)_line.Length);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        if (_first)
        {
            _first = false;
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
        }
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new CliException($"{Name}:{LineNumber}: invalid UTF-8 at byte {e.Index}.");
        }
    }

    public void Dispose()
    {
        if (_owns) _stream.Dispose();
    }
}
