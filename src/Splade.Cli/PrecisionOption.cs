using Splade.Models;

namespace Splade.Cli;

/// <summary>`--precision fp32|int8-decoder|int8|fp16`: the arithmetic of the network (<see cref="EncodePrecision"/>; fp16 with a --device only).</summary>
internal static class PrecisionOption
{
    public static EncodePrecision Get(CommandArgs args) => Parse(args.Get("precision"));

    public static EncodePrecision Parse(string? value) => value?.ToLowerInvariant() switch
    {
        null or "fp32" or "float32" => EncodePrecision.Float32,
        "int8-decoder" => EncodePrecision.Int8Decoder,
        "int8" => EncodePrecision.Int8,
        "fp16" or "float16" => EncodePrecision.Float16,
        "bf16" => throw new CliException("--precision bf16 is not available: .NET 10 exposes no bf16 dot-product instruction (vdpbf16ps); use int8 or int8-decoder."),
        _ => throw new CliException($"--precision: expected fp32, int8-decoder or int8 (or fp16 with --device cuda), got '{value}'."),
    };

    public static string Name(EncodePrecision p) => p switch
    {
        EncodePrecision.Int8Decoder => "int8-decoder",
        EncodePrecision.Int8 => "int8",
        EncodePrecision.Float16 => "fp16",
        _ => "fp32",
    };
}
