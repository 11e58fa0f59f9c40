using System.Text.Json;

namespace Splade.Models;

/// <summary>Module types of a sentence-transformers sparse encoder folder (the last dotted part of <c>type</c>).</summary>
public enum ModuleKind
{
    /// <summary>A transformer with its masked-LM head (BertForMaskedLM).</summary>
    MLMTransformer,
    /// <summary>A plain transformer encoder.</summary>
    Transformer,
    /// <summary>SPLADE max/sum pooling over MLM logits.</summary>
    SpladePooling,
    /// <summary>Per-route module lists (router_config.json).</summary>
    Router,
    /// <summary>One learned weight per vocabulary entry (inference-free query side).</summary>
    SparseStaticEmbedding,
}

/// <summary>One module of a route: its kind, where its files are and the type string it came from.</summary>
/// <param name="Name">Name (modules.json name or router key).</param>
/// <param name="Directory">Absolute folder of the module's files.</param>
/// <param name="Type">Type string as written in the file.</param>
/// <param name="Kind">Parsed kind.</param>
public sealed record ModuleEntry(string Name, string Directory, string Type, ModuleKind Kind);

/// <summary>Settings of <c>config_sentence_transformers.json</c> and <c>sentence_bert_config.json</c>.</summary>
public sealed record SparseEncoderConfig
{
    /// <summary>model_type (SparseEncoder).</summary>
    public string ModelType { get; init; } = "SparseEncoder";
    /// <summary>Prompts by name (e.g. query, document), prepended when non-empty.</summary>
    public IReadOnlyDictionary<string, string> Prompts { get; init; } = new Dictionary<string, string>();
    /// <summary>default_prompt_name, or null.</summary>
    public string? DefaultPromptName { get; init; }
    /// <summary>similarity_fn_name (dot by default for sparse models).</summary>
    public string SimilarityFnName { get; init; } = "dot";
    /// <summary>Effective max_seq_length, special tokens included.</summary>
    public int MaxSeqLength { get; init; }
    /// <summary>Whether text is lower-cased before tokenization (sentence_bert_config do_lower_case).</summary>
    public bool DoLowerCase { get; init; }
}

/// <summary>
/// A parsed model folder: encoder settings, the BERT config and, per route ("query", "document"),
/// the chain of modules to run. Plain folders use one chain for both routes.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string path, SparseEncoderConfig settings, BertConfig config, string transformerDirectory,
        IReadOnlyDictionary<string, IReadOnlyList<ModuleEntry>> routes, string? defaultRoute, bool isRouter, SpladePoolingConfig? pooling)
    {
        Pooling = pooling;
        Path = path;
        Settings = settings;
        Config = config;
        TransformerDirectory = transformerDirectory;
        Routes = routes;
        DefaultRoute = defaultRoute;
        IsRouter = isRouter;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }
    /// <summary>Encoder-level settings.</summary>
    public SparseEncoderConfig Settings { get; }
    /// <summary>The transformer's config.json.</summary>
    public BertConfig Config { get; }
    /// <summary>Folder holding the transformer's config.json and model.safetensors.</summary>
    public string TransformerDirectory { get; }
    /// <summary>Module chains by route name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ModuleEntry>> Routes { get; }
    /// <summary>The router's default route, if any.</summary>
    public string? DefaultRoute { get; }
    /// <summary>Settings of the SpladePooling module, null when no route has one.</summary>
    public SpladePoolingConfig? Pooling { get; }
    /// <summary>Whether queries and documents take different routes.</summary>
    public bool IsRouter { get; }

    /// <summary>
    /// Folder holding the tokenizer files: the model folder when it has tokenizer.json or vocab.txt, else
    /// the transformer's folder, else the first module folder that has them (sentence-transformers 5+
    /// saves a Router's tokenizer inside each module folder, e.g. <c>document_0_MLMTransformer/</c>).
    /// </summary>
    public string TokenizerDirectory
    {
        get
        {
            static bool HasTokenizer(string dir) =>
                File.Exists(System.IO.Path.Combine(dir, "tokenizer.json")) || File.Exists(System.IO.Path.Combine(dir, "vocab.txt"));
            if (HasTokenizer(Path)) return Path;
            if (HasTokenizer(TransformerDirectory)) return TransformerDirectory;
            return Routes.Values.SelectMany(c => c).Select(m => m.Directory).FirstOrDefault(HasTokenizer) ?? Path;
        }
    }

    /// <summary>Reads and checks every settings file of <paramref name="folder"/>.</summary>
    /// <exception cref="ModelLoadException">A file is missing or malformed, or a module type is unknown.</exception>
    public static ModelFolder Load(string folder)
    {
        folder = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new ModelLoadException(folder, "model folder not found.");
        string modulesPath = System.IO.Path.Combine(folder, "modules.json");
        var routes = new Dictionary<string, IReadOnlyList<ModuleEntry>>(StringComparer.Ordinal);
        string? defaultRoute = null;
        bool isRouter = false;
        if (File.Exists(modulesPath))
        {
            List<ModuleEntry> modules = ReadModules(modulesPath, folder);
            if (modules.Count == 1 && modules[0].Kind == ModuleKind.Router)
            {
                isRouter = true;
                defaultRoute = ReadRouter(modules[0].Directory, folder, routes);
            }
            else
            {
                routes["query"] = modules;
                routes["document"] = modules;
            }
        }
        else
        {
            BertConfig rootConfig = BertConfig.Load(System.IO.Path.Combine(folder, "config.json"));
            bool mlm = rootConfig.Architectures.Any(a => a.EndsWith("ForMaskedLM", StringComparison.Ordinal));
            List<ModuleEntry> modules = mlm
                ? [new("0", folder, "MLMTransformer", ModuleKind.MLMTransformer), new("1", System.IO.Path.Combine(folder, "1_SpladePooling"), "SpladePooling", ModuleKind.SpladePooling)]
                : [new("0", folder, "Transformer", ModuleKind.Transformer)];
            routes["query"] = modules;
            routes["document"] = modules;
        }
        foreach (var (route, chain) in routes) CheckChain(modulesPath, route, chain);

        ModuleEntry transformer = routes.Values.SelectMany(c => c).FirstOrDefault(m => m.Kind is ModuleKind.MLMTransformer or ModuleKind.Transformer)
            ?? throw new ModelLoadException(modulesPath, "no route holds a Transformer or MLMTransformer module.");
        BertConfig config = BertConfig.Load(System.IO.Path.Combine(transformer.Directory, "config.json"));
        SparseEncoderConfig settings = ReadSettings(folder, transformer.Directory, config);
        SpladePoolingConfig? pooling = null;
        ModuleEntry? poolingModule = routes.Values.SelectMany(c => c).FirstOrDefault(m => m.Kind == ModuleKind.SpladePooling);
        if (poolingModule is not null)
        {
            string poolingPath = System.IO.Path.Combine(poolingModule.Directory, "config.json");
            pooling = SpladePoolingConfig.Load(poolingPath);
            if (pooling.EmbeddingDimension is int dim && dim != config.VocabSize)
                throw new ModelLoadException(poolingPath, $"embedding dimension {dim} differs from vocab_size {config.VocabSize}.");
        }
        return new ModelFolder(folder, settings, config, transformer.Directory, routes, defaultRoute, isRouter, pooling);
    }

    private static List<ModuleEntry> ReadModules(string modulesPath, string folder)
    {
        using JsonDocument doc = ModelJson.Parse(modulesPath);
        if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new ModelLoadException(modulesPath, "expected a JSON array of modules.");
        var list = new List<(int Index, ModuleEntry Entry)>();
        foreach (JsonElement m in doc.RootElement.EnumerateArray())
        {
            string type = ModelJson.String(m, "type") ?? throw new ModelLoadException(modulesPath, "a module has no 'type'.");
            string path = ModelJson.String(m, "path") ?? "";
            string name = ModelJson.String(m, "name") ?? path;
            int index = ModelJson.Int(m, "idx") ?? list.Count;
            list.Add((index, new ModuleEntry(name, System.IO.Path.Combine(folder, path), type, ParseKind(modulesPath, type))));
        }
        return list.OrderBy(e => e.Index).Select(e => e.Entry).ToList();
    }

    private static ModuleKind ParseKind(string file, string type) => type[(type.LastIndexOf('.') + 1)..] switch
    {
        "MLMTransformer" => ModuleKind.MLMTransformer,
        "Transformer" => ModuleKind.Transformer,
        "SpladePooling" => ModuleKind.SpladePooling,
        "Router" => ModuleKind.Router,
        "SparseStaticEmbedding" => ModuleKind.SparseStaticEmbedding,
        _ => throw new ModelLoadException(file, $"module type '{type}' is not supported (MLMTransformer, Transformer, SpladePooling, Router, SparseStaticEmbedding)."),
    };

    /// <summary>Reads router_config.json: <c>structure</c> {route: [keys]}, <c>types</c> {key: type}; module files live in folder/key.</summary>
    private static string? ReadRouter(string routerDirectory, string folder, Dictionary<string, IReadOnlyList<ModuleEntry>> routes)
    {
        string path = System.IO.Path.Combine(routerDirectory, "router_config.json");
        using JsonDocument doc = ModelJson.Parse(path);
        JsonElement root = doc.RootElement;
        if (!root.TryGetProperty("structure", out JsonElement structure) || structure.ValueKind != JsonValueKind.Object)
            throw new ModelLoadException(path, "missing 'structure' object {route: [module keys]}.");
        root.TryGetProperty("types", out JsonElement types);
        foreach (JsonProperty route in structure.EnumerateObject())
        {
            if (route.Value.ValueKind != JsonValueKind.Array)
                throw new ModelLoadException(path, $"route '{route.Name}' must be a list of module keys, found {route.Value.ValueKind}.");
            var chain = new List<ModuleEntry>();
            foreach (JsonElement keyElement in route.Value.EnumerateArray())
            {
                string key = (keyElement.ValueKind == JsonValueKind.String ? keyElement.GetString() : null)
                    ?? throw new ModelLoadException(path, $"route '{route.Name}' has a non-string module key.");
                string type = ModelJson.String(types, key) ?? key[(key.LastIndexOf('_') + 1)..];
                chain.Add(new ModuleEntry(key, System.IO.Path.Combine(routerDirectory, key), type, ParseKind(path, type)));
            }
            routes[route.Name] = chain;
        }
        JsonElement parameters = root.TryGetProperty("parameters", out JsonElement p) ? p : default;
        return ModelJson.String(parameters, "default_route");
    }

    private static void CheckChain(string file, string route, IReadOnlyList<ModuleEntry> chain)
    {
        bool ok = chain.Count switch
        {
            1 => chain[0].Kind is ModuleKind.SparseStaticEmbedding or ModuleKind.Transformer or ModuleKind.MLMTransformer,
            2 => chain[0].Kind is ModuleKind.MLMTransformer or ModuleKind.Transformer && chain[1].Kind == ModuleKind.SpladePooling,
            _ => false,
        };
        if (!ok)
            throw new ModelLoadException(file, $"route '{route}' has modules [{string.Join(", ", chain.Select(m => m.Kind))}]; supported: MLMTransformer + SpladePooling, SparseStaticEmbedding, or a Transformer alone.");
    }

    private static SparseEncoderConfig ReadSettings(string folder, string transformerDirectory, BertConfig config)
    {
        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        string? defaultPrompt = null;
        string similarity = "dot", modelType = "SparseEncoder";
        string stPath = System.IO.Path.Combine(folder, "config_sentence_transformers.json");
        if (File.Exists(stPath))
        {
            using JsonDocument doc = ModelJson.Parse(stPath);
            JsonElement root = doc.RootElement;
            if (root.TryGetProperty("prompts", out JsonElement pe) && pe.ValueKind == JsonValueKind.Object)
                foreach (JsonProperty prompt in pe.EnumerateObject())
                    prompts[prompt.Name] = prompt.Value.ValueKind is JsonValueKind.String or JsonValueKind.Null ? prompt.Value.GetString() ?? ""
                        : throw new ModelLoadException(stPath, $"prompt '{prompt.Name}' must be a string, found {prompt.Value.ValueKind}.");
            defaultPrompt = ModelJson.String(root, "default_prompt_name");
            similarity = ModelJson.String(root, "similarity_fn_name") ?? "dot";
            modelType = ModelJson.String(root, "model_type") ?? modelType;
        }

        int? maxSeq = null;
        bool lower = false;
        string sbPath = System.IO.Path.Combine(transformerDirectory, "sentence_bert_config.json");
        if (!File.Exists(sbPath)) sbPath = System.IO.Path.Combine(folder, "sentence_bert_config.json");
        if (File.Exists(sbPath))
        {
            using JsonDocument doc = ModelJson.Parse(sbPath);
            maxSeq = ModelJson.Int(doc.RootElement, "max_seq_length");
            lower = ModelJson.Bool(doc.RootElement, "do_lower_case") ?? false;
        }
        if (maxSeq is null)
        {
            double tokenizerMax = double.PositiveInfinity;
            foreach (string dir in new[] { transformerDirectory, folder })
            {
                string tcPath = System.IO.Path.Combine(dir, "tokenizer_config.json");
                if (!File.Exists(tcPath)) continue;
                using JsonDocument doc = ModelJson.Parse(tcPath);
                tokenizerMax = ModelJson.Double(doc.RootElement, "model_max_length") ?? double.PositiveInfinity;
                break;
            }
            maxSeq = (int)Math.Min(config.MaxPositionEmbeddings, tokenizerMax);
        }
        if (maxSeq <= 2) throw new ModelLoadException(sbPath, $"max_seq_length {maxSeq} leaves no room for text between [CLS] and [SEP].");
        return new SparseEncoderConfig
        {
            ModelType = modelType,
            Prompts = prompts,
            DefaultPromptName = defaultPrompt,
            SimilarityFnName = similarity,
            MaxSeqLength = maxSeq.Value,
            DoLowerCase = lower,
        };
    }
}
