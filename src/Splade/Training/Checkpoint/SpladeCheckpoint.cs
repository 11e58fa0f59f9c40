using System.Globalization;
using System.Text.Json;
using Splade.Models;
using Splade.Training.Model;
using Splade.Training.Optim;

namespace Splade.Training.Checkpoint;

/// <summary>
/// Writes and reads training checkpoints in the Hugging Face / sentence-transformers folder layout: every
/// non-weight file of the source model is copied, <c>model.safetensors</c> holds the parameters under the
/// names the source used (the tied decoder once, as the source had it); optionally
/// <c>optimizer.safetensors</c> (AdamW moments) and <c>trainer_state.json</c> for resuming.
/// </summary>
public static class SpladeCheckpoint
{
    /// <summary>Files never copied from the source model: stale weights and exports.</summary>
    private static readonly string[] SkippedFiles = ["model.safetensors", "pytorch_model.bin", "optimizer.safetensors", "trainer_state.json", "tf_model.h5", "flax_model.msgpack", "README.md"];

    /// <summary>Copies the non-weight files of <paramref name="sourceModelDir"/> and writes the weights of <paramref name="p"/>.</summary>
    public static void SaveModel(string sourceModelDir, BertParameters p, string outDir) => SaveModel(sourceModelDir, p, outDir, null);

    /// <summary>As above, also writing non-float tensors of the source (e.g. I64 position_ids) unchanged.</summary>
    internal static void SaveModel(string sourceModelDir, BertParameters p, string outDir, IEnumerable<SafeTensorsFormat.RawTensor>? preservedTensors)
    {
        Directory.CreateDirectory(outDir);
        string srcFull = Path.GetFullPath(sourceModelDir), outFull = Path.GetFullPath(outDir);
        if (srcFull != outFull)
            foreach (string file in Directory.EnumerateFiles(srcFull, "*", SearchOption.AllDirectories))
            {
                string rel = Path.GetRelativePath(srcFull, file);
                string top = rel.Split(Path.DirectorySeparatorChar)[0];
                if (SkippedFiles.Contains(rel) || top is "onnx" or "openvino" || top.StartsWith("checkpoint-", StringComparison.Ordinal)) continue;
                string dst = Path.Combine(outFull, rel);
                Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
                File.Copy(file, dst, overwrite: true);
            }
        var tensors = p.All.Select(t => new SafeTensorsFormat.F32Tensor(t.SourceName, t.Shape, t.Data)).ToList();
        if (p.IsTied && p.SourceHadDecoderCopy)
            tensors.Add(new SafeTensorsFormat.F32Tensor("cls.predictions.decoder.weight", p.WordEmbeddings.Shape, p.WordEmbeddings.Data));
        SafeTensorsFormat.Write(Path.Combine(outDir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" }, preservedTensors);
    }

    /// <summary>Saves the AdamW moments (<c>exp_avg.NAME</c>, <c>exp_avg_sq.NAME</c>) and its step count.</summary>
    public static void SaveOptimizer(AdamW opt, BertParameters p, string outDir)
    {
        var tensors = new List<SafeTensorsFormat.F32Tensor>();
        foreach (var t in p.All)
            if (opt.State(t.Name) is { } s)
            {
                tensors.Add(new("exp_avg." + t.Name, t.Shape, s.ExpAvg));
                tensors.Add(new("exp_avg_sq." + t.Name, t.Shape, s.ExpAvgSq));
            }
        var meta = new Dictionary<string, string>
        {
            ["step"] = opt.Step.ToString(CultureInfo.InvariantCulture),
            ["betas"] = $"{opt.Beta1.ToString("R", CultureInfo.InvariantCulture)},{opt.Beta2.ToString("R", CultureInfo.InvariantCulture)}",
            ["eps"] = opt.Eps.ToString("R", CultureInfo.InvariantCulture),
            ["weight_decay"] = opt.WeightDecay.ToString("R", CultureInfo.InvariantCulture),
        };
        SafeTensorsFormat.Write(Path.Combine(outDir, "optimizer.safetensors"), tensors, meta);
    }

    /// <summary>Restores AdamW state written by <see cref="SaveOptimizer"/>.</summary>
    public static void LoadOptimizer(AdamW opt, BertParameters p, string dir)
    {
        string path = Path.Combine(dir, "optimizer.safetensors");
        using var file = SafeTensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("step", out var stepText) || !long.TryParse(stepText, CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{path}: metadata 'step' missing.");
        var state = new Dictionary<string, (float[], float[])>();
        foreach (var tensor in p.All)
        {
            string mName = "exp_avg." + tensor.Name, vName = "exp_avg_sq." + tensor.Name;
            if (!file.Tensors.ContainsKey(mName) || !file.Tensors.ContainsKey(vName)) continue;
            var md = file.ReadFloat32(mName);
            var vd = file.ReadFloat32(vName);
            if (md.Length != tensor.Length || vd.Length != tensor.Length)
                throw new InvalidDataException($"{path}: state of '{tensor.Name}' has {md.Length} values, the parameter {tensor.Length}.");
            state[tensor.Name] = (md, vd);
        }
        opt.Restore(step, state);
    }

    /// <summary>Progress of a run, saved beside a checkpoint for resuming.</summary>
    public sealed record TrainerState(int GlobalStep, int Epoch, int BatchInEpoch, double? BestMetric, int? BestStep, List<EpochLogEntry> EpochLog);

    /// <summary>One line of the per-epoch log.</summary>
    /// <param name="Epoch">0-based epoch.</param>
    /// <param name="Step">Optimizer steps done at its end.</param>
    /// <param name="TrainingLoss">Mean loss of its steps.</param>
    /// <param name="Ndcg10">Value of the metric that picks the best checkpoint.</param>
    /// <param name="Metrics">Every metric of the evaluation, by name (insertion order kept).</param>
    public sealed record EpochLogEntry(int Epoch, int Step, double TrainingLoss, double? Ndcg10, Dictionary<string, double>? Metrics = null);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes <c>trainer_state.json</c> atomically (temp file, fsync, rename): a failed write leaves the previous one.</summary>
    public static void SaveTrainerState(TrainerState state, string dir)
    {
        string path = Path.Combine(dir, "trainer_state.json"), tmp = path + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(JsonSerializer.SerializeToUtf8Bytes(state, Json));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException)
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>
    /// Writes a checkpoint folder as a whole: <paramref name="write"/> fills <c>DIR.partial</c>, which then
    /// replaces <paramref name="dir"/> by two renames (the previous folder is <c>DIR.old</c> in between and
    /// <see cref="ResolveResumable"/> finds it there). When a write fails (a full disk), the partial folder
    /// is removed and the previous checkpoint stays complete; the error names the file and the folder.
    /// </summary>
    /// <exception cref="IOException">A file could not be written; the previous checkpoint is unchanged.</exception>
    public static void ReplaceFolder(string dir, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string partial = full + ".partial", old = full + ".old";
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        try
        {
            Directory.CreateDirectory(partial);
            write(partial);
        }
        catch (IOException e)
        {
            try { Directory.Delete(partial, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            bool diskFull = Splade.Search.IndexWriteException.IsDiskFull(e);
            throw new IOException($"Could not write checkpoint '{full}' ({(diskFull ? "the disk is full" : "an I/O error")}: {e.Message}). " +
                (Directory.Exists(full) ? $"The previous checkpoint in '{full}' is unchanged and training can resume from it." : "No earlier checkpoint existed there.") +
                " Free space and run again.", e) { HResult = e.HResult };
        }
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(partial, full);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>The checkpoint folder to resume from: <paramref name="dir"/>, or <c>DIR.old</c> when a replacement was cut off between its two renames.</summary>
    public static string ResolveResumable(string dir)
    {
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        return !Directory.Exists(full) && Directory.Exists(full + ".old") ? full + ".old" : dir;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static TrainerState LoadTrainerState(string dir)
    {
        string path = Path.Combine(dir, "trainer_state.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not a resumable checkpoint (trainer_state.json missing).", path);
        return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path}: empty trainer state.");
    }
}
