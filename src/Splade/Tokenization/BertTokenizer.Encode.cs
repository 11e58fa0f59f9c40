namespace Splade.Tokenization;

public sealed partial class BertTokenizer
{
    /// <summary>
    /// Encodes one text: [CLS] pieces [SEP] when <paramref name="addSpecialTokens"/>, truncated to
    /// <paramref name="maxLength"/> tokens in all by keeping the first pieces.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> cannot hold the special tokens.</exception>
    public TokenizedText Encode(string text, int maxLength = int.MaxValue, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        int added = addSpecialTokens ? _post.SingleAdded : 0;
        if (maxLength < added)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must be at least {added}, the number of special tokens added.");
        var ws = t_workspace ??= new Workspace();
        var pieces = ws.PiecesA;
        pieces.Clear();
        Tokenize(text, pieces, ws);
        int keep = Math.Min(pieces.Count, maxLength - added);
        if (!addSpecialTokens) return Build([new TemplatePostProcessor.Part(false, [], false, 0)], pieces, keep, null, 0);
        return Build(_post.Single, pieces, keep, null, 0);
    }

    /// <summary>
    /// Encodes a pair: [CLS] A [SEP] B [SEP], type id 1 on B and its [SEP]. When too long, pieces are
    /// removed with the reference's "longest_first" rule (both sides cut towards an equal share).
    /// </summary>
    public TokenizedText EncodePair(string a, string b, int maxLength = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int added = _post.PairAdded;
        if (maxLength < added)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must be at least {added}, the number of special tokens added.");
        var ws = t_workspace ??= new Workspace();
        ws.PiecesA.Clear();
        ws.PiecesB.Clear();
        Tokenize(a, ws.PiecesA, ws);
        Tokenize(b, ws.PiecesB, ws);
        int n1 = ws.PiecesA.Count, n2 = ws.PiecesB.Count;
        int budget = maxLength - added;
        if ((long)n1 + n2 > budget)
        {
            // TruncationStrategy::LongestFirst of the reference (truncate_encodings).
            bool swap = n1 > n2;
            if (swap) (n1, n2) = (n2, n1);
            n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
            if (n1 + n2 > budget)
            {
                n1 = budget / 2;
                n2 = n1 + budget % 2;
            }
            if (swap) (n1, n2) = (n2, n1);
        }
        return Build(_post.Pair, ws.PiecesA, Math.Min(n1, ws.PiecesA.Count), ws.PiecesB, Math.Min(n2, ws.PiecesB.Count));
    }

    private TokenizedText Build(TemplatePostProcessor.Part[] template, List<(int Id, int Start, int End)> a, int keepA,
        List<(int Id, int Start, int End)>? b, int keepB)
    {
        int total = 0;
        foreach (var part in template)
            total += part.IsSpecial ? part.SpecialIds.Length : part.IsSequenceB ? keepB : keepA;
        var ids = new int[total];
        var types = new int[total];
        var offsets = new (int, int)[total];
        var tokens = new string[total];
        int k = 0;
        foreach (var part in template)
        {
            if (part.IsSpecial)
            {
                foreach (int id in part.SpecialIds)
                {
                    ids[k] = id; types[k] = part.TypeId; offsets[k] = (0, 0); tokens[k] = IdToToken(id); k++;
                }
                continue;
            }
            var source = part.IsSequenceB ? b! : a;
            int keep = part.IsSequenceB ? keepB : keepA;
            for (int i = 0; i < keep; i++)
            {
                var p = source[i];
                ids[k] = p.Id; types[k] = part.TypeId; offsets[k] = (p.Start, p.End); tokens[k] = IdToToken(p.Id); k++;
            }
        }
        return new TokenizedText(ids, types, offsets, tokens);
    }

    /// <summary>Appends the pieces of <paramref name="text"/> as (id, original start, original end).</summary>
    private void Tokenize(string text, List<(int Id, int Start, int End)> output, Workspace ws)
    {
        var matches = ws.Matches;
        matches.Clear();
        _rawMatcher.FindMatches(text, matches);
        int pos = 0;
        // Copy: the segment tokenizer reuses ws.Matches for normalized added tokens.
        (AddedToken Token, int Start, int End)[] raw = matches.Count == 0 ? [] : matches.ToArray();
        foreach (var (token, start, end) in raw)
        {
            if (start > pos) TokenizeSegment(text, pos, start, output, ws);
            output.Add((token.Id, start, end));
            pos = end;
        }
        if (pos < text.Length) TokenizeSegment(text, pos, text.Length, output, ws);
    }

    /// <summary>Normalizes a text segment free of raw added tokens, then splits and tokenizes it.</summary>
    private void TokenizeSegment(string text, int start, int end, List<(int Id, int Start, int End)> output, Workspace ws)
    {
        var norm = ws.Normalized;
        norm.Clear();
        _normalizer.Normalize(text, start, end, norm);
        if (_normalizedMatcher.IsEmpty)
        {
            SplitAndModel(norm, 0, norm.Length, output, ws);
            return;
        }
        ws.Matches.Clear();
        _normalizedMatcher.FindMatches(norm.Span(0, norm.Length), ws.Matches);
        int pos = 0;
        foreach (var (token, s, e) in ws.Matches)
        {
            if (s > pos) SplitAndModel(norm, pos, s, output, ws);
            output.Add((token.Id, norm.Starts[s], norm.Ends[e - 1]));
            pos = e;
        }
        if (pos < norm.Length) SplitAndModel(norm, pos, norm.Length, output, ws);
    }

    private void SplitAndModel(NormalizedText norm, int start, int end, List<(int Id, int Start, int End)> output, Workspace ws)
    {
        var words = ws.Words;
        words.Clear();
        BertPreTokenizer.Split(norm, start, end, words);
        var pieces = ws.WordPieces;
        foreach (var (ws0, we) in words)
        {
            pieces.Clear();
            _model.Tokenize(norm.Span(ws0, we), pieces);
            foreach (var (id, ps, pe) in pieces)
                output.Add((id, norm.Starts[ws0 + ps], norm.Ends[ws0 + pe - 1]));
        }
    }

    /// <summary>
    /// Turns ids back into text with the tokenizer's decoder (WordPiece: "##" pieces glued, cleanup
    /// of spaces before punctuation, token by token as the Rust decoder does; then transformers'
    /// whole-string cleanup when clean_up_tokenization_spaces is set). Special tokens are left out when <paramref name="skipSpecialTokens"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary (the reference skips it silently).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            string token = IdToToken(id);
            if (skipSpecialTokens && _specialIds.Contains(id)) continue;
            tokens.Add(token);
        }
        string text = _decoder.Decode(tokens);
        return _cleanUpTokenizationSpaces ? WordPieceDecoder.CleanUpTokenization(text) : text;
    }
}
