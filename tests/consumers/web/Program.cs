// A minimal ASP.NET Core app that hosts the Splade endpoints from the Splade.Server package.
// Settings come from configuration, e.g. Splade__Model=<model folder> in the environment.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSparseEncoder(builder.Configuration);
var app = builder.Build();
app.MapGet("/hello", () => "the application's own endpoint");
app.MapHealthChecks("/healthz");
app.MapSparseEncoderEndpoints();
app.Run();
