namespace Splade.Tests;

/// <summary>Locates test fixtures: the copies under testdata/ and, optionally, the larger shared data set.</summary>
internal static class TestData
{
    /// <summary>Folder of the fixtures copied next to the test assembly.</summary>
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "testdata");

    public static string Path_(params string[] parts) => Path.Combine([Dir, .. parts]);

    public static string Model(string name) => Path.Combine(Dir, "models", name);

    /// <summary>
    /// The larger data set (models of benchmark size, IR collections), found through SPLADE_SHARED_DATA
    /// or a `shared/data` folder beside the repository. Null when absent: tests that need it skip.
    /// </summary>
    public static string? SharedData
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("SPLADE_SHARED_DATA");
            if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
                dir = dir.Parent;
            }
            return null;
        }
    }
}
