using Splade.Hub;

namespace Splade.Tests.Hub;

public class HubOptionsTests
{
    private static HubOptions FromEnv(params (string Key, string? Value)[] vars) =>
        HubOptions.FromEnvironment(vars.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void Defaults_FollowHuggingFaceHub()
    {
        var o = FromEnv(("HOME", "/home/u"));
        Assert.Equal("https://huggingface.co", o.Endpoint);
        Assert.Equal("/home/u/.cache/huggingface/hub", o.CacheDir);
        Assert.Null(o.Token);
        Assert.False(o.Offline);
    }

    [Fact]
    public void CacheDir_Precedence_HubCache_Then_HfHome_Then_Xdg()
    {
        Assert.Equal("/x/huggingface/hub", FromEnv(("HOME", "/home/u"), ("XDG_CACHE_HOME", "/x")).CacheDir);
        Assert.Equal("/hf/hub", FromEnv(("HOME", "/home/u"), ("XDG_CACHE_HOME", "/x"), ("HF_HOME", "/hf")).CacheDir);
        Assert.Equal("/c", FromEnv(("HOME", "/home/u"), ("HF_HOME", "/hf"), ("HF_HUB_CACHE", "/c")).CacheDir);
        Assert.Equal("/legacy", FromEnv(("HOME", "/home/u"), ("HUGGINGFACE_HUB_CACHE", "/legacy")).CacheDir);
        Assert.Equal("/home/u/hf/hub", FromEnv(("HOME", "/home/u"), ("HF_HOME", "~/hf")).CacheDir);
        Assert.Equal("/home/u/.cache/huggingface/hub", FromEnv(("HOME", "/home/u"), ("HF_HOME", "")).CacheDir); // empty = unset
    }

    [Fact]
    public void Endpoint_TrailingSlashRemoved()
    {
        Assert.Equal("http://mirror.local:8080", FromEnv(("HOME", "/h"), ("HF_ENDPOINT", "http://mirror.local:8080/")).Endpoint);
    }

    [Theory]
    [InlineData("HF_HUB_OFFLINE", "1", true)]
    [InlineData("HF_HUB_OFFLINE", "true", true)]
    [InlineData("HF_HUB_OFFLINE", "YES", true)]
    [InlineData("HF_HUB_OFFLINE", "on", true)]
    [InlineData("HF_HUB_OFFLINE", "0", false)]
    [InlineData("HF_HUB_OFFLINE", "false", false)]
    [InlineData("TRANSFORMERS_OFFLINE", "1", true)]
    [InlineData("OTHER", "1", false)]
    public void Offline_Flags(string name, string value, bool expected)
    {
        Assert.Equal(expected, FromEnv(("HOME", "/h"), (name, value)).Offline);
    }

    [Fact]
    public void Token_FromVariable_ElseTokenFile()
    {
        string home = Path.Combine(Path.GetTempPath(), "splade-hub-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(home);
        try
        {
            File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");
            Assert.Equal("hf_from_file", FromEnv(("HOME", "/h"), ("HF_HOME", home)).Token);
            Assert.Equal("hf_from_var", FromEnv(("HOME", "/h"), ("HF_HOME", home), ("HF_TOKEN", "hf_from_var")).Token);
            Assert.Equal("hf_old", FromEnv(("HOME", "/h"), ("HF_HOME", home), ("HUGGING_FACE_HUB_TOKEN", "hf_old")).Token);
            File.WriteAllText(Path.Combine(home, "other-token"), "hf_other");
            Assert.Equal("hf_other", FromEnv(("HOME", "/h"), ("HF_HOME", home), ("HF_TOKEN_PATH", Path.Combine(home, "other-token"))).Token);
            Assert.Null(FromEnv(("HOME", "/h"), ("HF_HOME", Path.Combine(home, "none"))).Token);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void DownloadTimeout_IsRead()
    {
        Assert.Equal(TimeSpan.FromSeconds(42.5), FromEnv(("HOME", "/h"), ("HF_HUB_DOWNLOAD_TIMEOUT", "42.5")).Timeout);
        Assert.Equal(TimeSpan.FromSeconds(10), FromEnv(("HOME", "/h"), ("HF_HUB_DOWNLOAD_TIMEOUT", "soon")).Timeout);
    }

    [Theory]
    [InlineData("rasyosef/SPLADE-BERT-Mini", "rasyosef", "SPLADE-BERT-Mini", "main")]
    [InlineData("rasyosef/SPLADE-BERT-Mini@v1.0", "rasyosef", "SPLADE-BERT-Mini", "v1.0")]
    [InlineData("a_b/c.d-e@refs/pr/1", "a_b", "c.d-e", "refs/pr/1")]
    [InlineData("o/n@0123456789abcdef0123456789abcdef01234567", "o", "n", "0123456789abcdef0123456789abcdef01234567")]
    public void ModelReference_Parses(string spec, string owner, string name, string revision)
    {
        Assert.True(ModelReference.TryParse(spec, out var r));
        Assert.Equal(new ModelReference(owner, name, revision), r);
        Assert.Equal(revision.Length == 40, r.IsCommitHash);
    }

    [Theory]
    [InlineData("")]
    [InlineData("justname")]
    [InlineData("a/b/c")]
    [InlineData("/abs/path")]
    [InlineData("o/n@")]
    [InlineData("o/n@../x")]
    [InlineData("o--x/n")]
    [InlineData("o/n..x")]
    [InlineData("o/-n")]
    [InlineData("o /n")]
    public void ModelReference_Rejects(string spec)
    {
        Assert.False(ModelReference.TryParse(spec, out _));
    }

    [Fact]
    public void FileSelection_KeepsWhatASparseEncoderReads()
    {
        string[] listed =
        [
            ".gitattributes", "README.md", "config.json", "modules.json", "model.safetensors", "vocab.txt", "tokenizer.json",
            "1_SpladePooling/config.json", "router_config.json", "query_0_SparseStaticEmbedding/model.safetensors",
            "document_1_MLMTransformer/vocab.txt", "sentencepiece.bpe.model", "pytorch_model.bin", "tf_model.h5",
            "flax_model.msgpack", "rust_model.ot", "onnx/model.onnx", "onnx/config.json", "openvino/openvino_model.xml",
            "openvino/openvino_model.bin", "training_args.pt", "images/plot.png",
        ];
        var selected = SparseEncoderFiles.Select(listed, "o/n");
        Assert.Equal(
            [
                "README.md", "config.json", "modules.json", "model.safetensors", "vocab.txt", "tokenizer.json",
                "1_SpladePooling/config.json", "router_config.json", "query_0_SparseStaticEmbedding/model.safetensors",
                "document_1_MLMTransformer/vocab.txt", "sentencepiece.bpe.model",
            ], selected);
    }

    [Fact]
    public void FileSelection_WithoutSafetensors_RequiresThem()
    {
        var e = Assert.Throws<UnsupportedWeightsException>(() => SparseEncoderFiles.Select(["config.json", "pytorch_model.bin", "onnx/model.onnx"], "o/n"));
        Assert.Contains("o/n", e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.DoesNotContain("onnx/model.onnx", e.Message);
        // No weights at all is left to the loader (nothing to download is not an error here).
        Assert.Equal(["config.json"], SparseEncoderFiles.Select(["config.json"], "o/n"));
    }

    [Fact]
    public void Urls_EscapeRevisionAndPath()
    {
        using var client = new HubClient(new HubOptions { Endpoint = "https://hub.example/", CacheDir = "/tmp/none" });
        var model = new ModelReference("o", "n", "refs/pr/1");
        Assert.Equal("https://hub.example/o/n/resolve/refs%2Fpr%2F1/1_SpladePooling/config%201.json", client.ResolveUrl(model, "1_SpladePooling/config 1.json"));
        Assert.Equal("https://hub.example/api/models/o/n/revision/refs%2Fpr%2F1", client.RevisionUrl(model));
    }

    [Theory]
    [InlineData("\"abc123\"", "abc123")]
    [InlineData("W/\"abc123\"", "abc123")]
    [InlineData("abc123", "abc123")]
    [InlineData("\"\"", null)]
    public void Etag_IsNormalized(string raw, string? expected)
    {
        Assert.Equal(expected, HubClient.NormalizeEtag(raw));
    }
}
