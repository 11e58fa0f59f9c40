using BenchmarkDotNet.Running;

// Kernel and end-to-end benchmarks of the SPLADE encoder, e.g.
//   dotnet run -c Release --project benchmarks/Splade.Benchmarks -- --filter '*Gemm*'
// End-to-end benchmarks read the model folder from SPLADE_BENCH_MODEL
// (default /work/shared/data/models/bert-mini-random-splade) and are skipped when it is missing.
BenchmarkSwitcher.FromAssembly(typeof(Splade.Benchmarks.GemmBenchmarks).Assembly).Run(args);
