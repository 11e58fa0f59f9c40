namespace Splade.Hub;

/// <summary>
/// Where and how to reach the Hugging Face Hub and its local cache. The defaults and environment
/// variables follow the Python client <c>huggingface_hub</c>, so that both share one cache.
/// </summary>
public sealed record HubOptions
{
    /// <summary>The public Hub, used when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base URL of the Hub (no trailing slash), e.g. <c>https://huggingface.co</c>.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Access token sent as <c>Authorization: Bearer</c> to the endpoint's host only; null for anonymous access.</summary>
    public string? Token { get; init; }

    /// <summary>The hub cache folder (holds <c>models--{owner}--{name}/</c>); Python's <c>HF_HUB_CACHE</c>. Defaults to
    /// <c>~/.cache/huggingface/hub</c>; use <see cref="FromEnvironment"/> to honour the environment variables.</summary>
    public string CacheDir { get; init; } = DefaultCacheDir(null);

    /// <summary>When true, no request is ever sent: everything is read from <see cref="CacheDir"/>.</summary>
    public bool Offline { get; init; }

    /// <summary>
    /// Optional HTTP handler (proxy settings, tests). Redirects are followed by the client itself, so a
    /// handler's own redirect following is ignored. The handler is not disposed by <see cref="HubClient"/>.
    /// </summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Limit for a request to answer with headers, and for any single read of a body to make progress.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a request is retried after a 5xx / 429 answer, a broken connection or a truncated body.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Delay before the first retry; doubled for each further one (1 s, 2 s, 4 s by default).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for another process that holds the lock on a blob being downloaded.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Sent as the <c>User-Agent</c> header.</summary>
    public string UserAgent { get; init; } = "splade-dotnet/1.0";

    /// <summary>
    /// Reads the same environment variables as <c>huggingface_hub</c>: <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>
    /// (else <c>HUGGING_FACE_HUB_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>),
    /// <c>HF_HOME</c>, <c>HF_HUB_CACHE</c> (legacy <c>HUGGINGFACE_HUB_CACHE</c>), <c>XDG_CACHE_HOME</c>,
    /// <c>HF_HUB_OFFLINE</c> / <c>TRANSFORMERS_OFFLINE</c> and <c>HF_HUB_DOWNLOAD_TIMEOUT</c> (seconds).
    /// </summary>
    /// <param name="env">Variables to read instead of the process environment (empty values count as unset);
    /// <c>HOME</c> in it replaces the user's home folder.</param>
    public static HubOptions FromEnvironment(IReadOnlyDictionary<string, string?>? env = null)
    {
        string? Get(string name)
        {
            string? v = env is null ? Environment.GetEnvironmentVariable(name) : env.TryGetValue(name, out var x) ? x : null;
            return string.IsNullOrEmpty(v) ? null : v;
        }

        string home = Get("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string hfHome = HfHome(Get("HF_HOME"), Get("XDG_CACHE_HOME"), home);
        string cache = ExpandUser(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"), home);

        string? token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN");
        if (token is null)
        {
            string tokenPath = ExpandUser(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token"), home);
            if (File.Exists(tokenPath))
            {
                string t = File.ReadAllText(tokenPath).Trim();
                if (t.Length > 0) token = t;
            }
        }
        token = token?.Trim();

        var options = new HubOptions
        {
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            Token = string.IsNullOrEmpty(token) ? null : token,
            CacheDir = cache,
            Offline = IsTrue(Get("HF_HUB_OFFLINE")) || IsTrue(Get("TRANSFORMERS_OFFLINE")),
        };
        if (Get("HF_HUB_DOWNLOAD_TIMEOUT") is { } t2 && double.TryParse(t2, System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && double.IsFinite(seconds))
            options = options with { Timeout = TimeSpan.FromSeconds(seconds) };
        return options;
    }

    /// <summary><c>$HF_HOME/hub</c> with the defaults of <see cref="FromEnvironment"/> for the given home folder.</summary>
    internal static string DefaultCacheDir(string? home)
    {
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(HfHome(null, null, home), "hub");
    }

    // huggingface_hub constants.py: HF_HOME = expanduser(HF_HOME or (XDG_CACHE_HOME or ~/.cache) + "/huggingface").
    private static string HfHome(string? hfHome, string? xdgCache, string home) =>
        ExpandUser(hfHome ?? Path.Combine(xdgCache ?? Path.Combine(home, ".cache"), "huggingface"), home);

    private static string ExpandUser(string path, string home)
    {
        if (path == "~") return home;
        if (path.StartsWith("~/", StringComparison.Ordinal)) return Path.Combine(home, path[2..]);
        return path;
    }

    // huggingface_hub's _is_true: "1", "ON", "YES", "TRUE" in any case.
    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
}
