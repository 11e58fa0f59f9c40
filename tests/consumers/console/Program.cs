// A console app that uses the Splade package from a feed, as a newcomer would:
// dotnet run -- <model folder or Hub id>
using Splade;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: dotnet run -- <model folder or owner/name>");
    return 2;
}
var model = SparseEncoder.Load(args[0]);
var query = model.EncodeQuery("where is oestrogen produced");
var document = model.EncodeDocument("Oestrogen is a hormone produced by the ovaries.");
float score = query.Dot(document);
var top = model.Decode(SparseEncoder.Intersection(query, document), 3);
Console.WriteLine($"score {score:F4} (dimension {model.Dimension}, {query.Count} query tokens, top: {string.Join(" ", top.Select(t => t.Token))})");
return score > 0 ? 0 : 1;
