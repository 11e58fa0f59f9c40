using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Splade.AI;
using Splade.Tests.Server;

namespace Splade.Tests.Hosting;

/// <summary>The endpoints inside an application of one's own: AddSparseEncoder + MapSparseEncoderEndpoints.</summary>
public sealed class HostingTests
{
    private static async Task<(WebApplication App, HttpClient Client)> StartAsync(Dictionary<string, string?> settings, bool passSection = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSparseEncoder(passSection ? builder.Configuration.GetSection("Splade") : builder.Configuration);
        var app = builder.Build();
        app.MapGet("/hello", () => "an endpoint of the application");
        app.MapSparseEncoderEndpoints();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) });
    }

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var d = new Dictionary<string, string?> { ["Splade:Model"] = TestData.Model("tiny-splade"), ["Splade:Threads"] = "2" };
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }

    [Fact]
    public async Task Configured_encoder_serves_the_same_vectors_next_to_the_apps_own_endpoints()
    {
        var (app, client) = await StartAsync(Settings(("Splade:MaxClientBatchSize", "2")));
        await using var _ = app;
        using var __ = client;
        var enc = ServerHarness.Encoder;
        string[] texts = ["where is oestrogen produced", "The quick brown fox."];

        var response = await client.PostAsJsonAsync("/embed_sparse", new { inputs = texts, role = "query" });
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, body);
        var got = ServerHarness.ParseTei(body, enc.Dimension);
        var expected = enc.EncodeQueries(texts);
        for (int i = 0; i < texts.Length; i++) ServerHarness.AssertBitIdentical(expected[i], got[i]);
        Assert.Equal("an endpoint of the application", await client.GetStringAsync("/hello"));

        // Settings are bound from configuration, and errors keep TEI's shape without the standalone server.
        using var info = JsonDocument.Parse(await client.GetStringAsync("/info"));
        Assert.Equal(2, info.RootElement.GetProperty("max_client_batch_size").GetInt32());
        Assert.Equal(TestData.Model("tiny-splade"), info.RootElement.GetProperty("model_id").GetString());
        await ServerHarness.AssertError(await client.PostAsJsonAsync("/embed_sparse", new { inputs = new[] { "a", "b", "c" } }), 413, "Validation");
        await ServerHarness.AssertError(await client.PostAsync("/embed_sparse", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")), 400, "Empty");
        Assert.Equal(200, (int)(await client.GetAsync("/health")).StatusCode);
        Assert.Contains("splade_requests_total{endpoint=\"/embed_sparse\",status=\"200\"} 1", await client.GetStringAsync("/metrics"));

        // Loaded once: the injected encoder, generator and health check share it.
        var encoder = app.Services.GetRequiredService<SparseEncoder>();
        var generator = app.Services.GetRequiredService<IEmbeddingGenerator<string, SparseEmbedding>>();
        Assert.Same(encoder, generator.GetService<SparseEncoder>());
        var viaGenerator = await generator.GenerateAsync(texts, SparseEmbeddingOptions.ForQueries());
        ServerHarness.AssertBitIdentical(expected[1], viaGenerator[1].Vector);
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Entries["splade"].Status);
    }

    [Fact]
    public async Task The_section_itself_can_be_passed_and_the_api_key_applies()
    {
        var (app, client) = await StartAsync(Settings(("Splade:ApiKey", "k1")), passSection: true);
        await using var _ = app;
        using var __ = client;
        await ServerHarness.AssertError(await client.PostAsJsonAsync("/embed_sparse", new { inputs = "x" }), 401, "Validation");
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "k1");
        Assert.Equal(200, (int)(await client.PostAsJsonAsync("/embed_sparse", new { inputs = "x" })).StatusCode);
        Assert.Equal(200, (int)(await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Missing_model_or_a_bad_limit_fails_the_start_naming_the_setting()
    {
        foreach (var (settings, expected) in new[]
        {
            (new Dictionary<string, string?> { ["Splade:Threads"] = "2" }, "Splade:Model"),
            (Settings(("Splade:MaxBatchTokens", "0")), "MaxBatchTokens"),
        })
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddSparseEncoder(builder.Configuration);
            await using var app = builder.Build();
            app.MapSparseEncoderEndpoints();
            var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public async Task A_model_folder_that_does_not_exist_fails_the_start_not_the_first_request()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        string missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N"));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Splade:Model"] = missing });
        builder.Services.AddSparseEncoder(builder.Configuration);
        await using var app = builder.Build();
        app.MapSparseEncoderEndpoints();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
        Assert.Contains("no-such-model-", e.ToString());
    }

    [Fact]
    public void Mapping_without_registration_or_registering_twice_is_refused()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var app = builder.Build();
        var e = Assert.Throws<InvalidOperationException>(() => app.MapSparseEncoderEndpoints());
        Assert.Contains("AddSparseEncoder", e.Message);

        var services = new ServiceCollection();
        services.AddSparseEncoder(ServerHarness.Encoder);
        Assert.Throws<InvalidOperationException>(() => services.AddSparseEncoder(ServerHarness.Encoder));
    }
}
