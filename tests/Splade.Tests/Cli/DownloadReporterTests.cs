using Splade.Cli;
using Splade.Hub;
using Xunit;

namespace Splade.Tests.Cli;

public class DownloadReporterTests
{
    [Fact]
    public void CompletedFile_IsPrintedOnce_EvenWhenReportedRepeatedly()
    {
        var stderr = new StringWriter();
        var reporter = new ModelLoading.DownloadReporter(stderr);
        reporter.Report(new HubDownloadProgress("model.safetensors", 0, 4_100_000, 3, 10));
        // The body copy, the end of the GET and the file's completion each report the last byte.
        for (int i = 0; i < 3; i++) reporter.Report(new HubDownloadProgress("model.safetensors", 4_100_000, 4_100_000, 3, 10));
        reporter.Report(new HubDownloadProgress("vocab.txt", 231_508, 231_508, 4, 10));

        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["download [4/10] model.safetensors: 0.0/4.1 MB", "download [4/10] model.safetensors: 4.1/4.1 MB", "download [5/10] vocab.txt: 231.5/231.5 kB"],
            lines);
    }

    [Fact]
    public void SmallFile_PrintsOnlyItsCompletedLine()
    {
        var stderr = new StringWriter();
        var reporter = new ModelLoading.DownloadReporter(stderr);
        reporter.Report(new HubDownloadProgress("config.json", 0, 612, 0, 10));
        reporter.Report(new HubDownloadProgress("config.json", 300, 612, 0, 10));
        reporter.Report(new HubDownloadProgress("config.json", 612, 612, 0, 10));

        Assert.Equal(["download [1/10] config.json: 0.6/0.6 kB"], stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void UnknownSize_PrintsItsStart()
    {
        var stderr = new StringWriter();
        var reporter = new ModelLoading.DownloadReporter(stderr);
        reporter.Report(new HubDownloadProgress("model.safetensors", 0, null, 0, 1));

        Assert.Equal("download [1/1] model.safetensors: 0.0 kB", stderr.ToString().Trim());
    }

    [Fact]
    public void CachedFiles_PrintNothing()
    {
        var stderr = new StringWriter();
        var reporter = new ModelLoading.DownloadReporter(stderr);
        reporter.Report(new HubDownloadProgress("model.safetensors", 4_100_000, 4_100_000, 0, 2) { FromCache = true });
        reporter.Report(new HubDownloadProgress("vocab.txt", 231_508, 231_508, 1, 2) { FromCache = true });
        Assert.Equal("", stderr.ToString());
    }
}
