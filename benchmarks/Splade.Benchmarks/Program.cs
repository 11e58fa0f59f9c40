using BenchmarkDotNet.Running;

// Kernel and end-to-end benchmarks of the SPLADE encoder, e.g.
//   dotnet run -c Release --project benchmarks/Splade.Benchmarks -- --filter '*Gemm*'
// End-to-end benchmarks read the model folder from SPLADE_BENCH_MODEL
// (default /work/shared/data/models/bert-mini-random-splade) and are skipped when it is missing.
// `stages [threads] [queries] [8|16]` instead prints where a 10-token query's time goes (QueryStages).
if (args.Length > 0 && args[0] == "stages")
    Splade.Benchmarks.QueryStages.Run(args.Length > 1 ? int.Parse(args[1]) : 2, args.Length > 2 ? int.Parse(args[2]) : 2000, args.Length > 3 ? int.Parse(args[3]) : null);
else
    BenchmarkSwitcher.FromAssembly(typeof(Splade.Benchmarks.GemmBenchmarks).Assembly).Run(args);
