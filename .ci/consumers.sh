#!/usr/bin/env bash
# The newcomer's path, against the packages in artifacts/packages (run `dotnet pack -c Release -o
# artifacts/packages` first): a console app with the Splade package, the `splade` tool, and a web app
# hosting the endpoints. Each step runs in an empty temporary folder; any failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
feed="$repo/artifacts/packages"
model="$repo/tests/Splade.Tests/testdata/models/tiny-splade"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
[ -f "$feed/Splade.$version.nupkg" ] || { echo "error: $feed/Splade.$version.nupkg missing; run dotnet pack -c Release -o artifacts/packages" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=$(mktemp -d)
web_pid=""
cleanup() {
  if [ -n "$web_pid" ]; then kill "$web_pid" 2>/dev/null || true; wait "$web_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# A package cache of its own: the packages just built are never confused with an older build of the same version.
export NUGET_PACKAGES="$work/nuget-packages"
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="Splade" /><package pattern="Splade.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML

step() { echo; echo "+ $*"; "$@"; }
# Runs a command showing only its last line, or all of its output when it fails.
quiet() {
  echo; echo "+ $*"
  local log="$work/step.log"
  if "$@" > "$log" 2>&1; then tail -n 1 "$log"; else cat "$log" >&2; echo "error: '$*' failed" >&2; exit 1; fi
}

echo "== consumer 1: dotnet new console + the Splade package"
mkdir "$work/console" && cd "$work/console"
quiet dotnet new console --name SpladeConsole --output .
quiet dotnet add package Splade --version "$version"
cp "$repo/tests/consumers/console/Program.cs" Program.cs
out=$(dotnet run -c Release -- "$model")
echo "$out"
case "$out" in "score "*) ;; *) echo "error: the console consumer printed no score" >&2; exit 1 ;; esac

echo "== consumer 2: dotnet tool install the splade command"
cd "$work"
step dotnet tool install Splade.Cli --version "$version" --tool-path "$work/tools" --configfile "$work/nuget.config"
line=$(echo '{"id": "q1", "text": "where is oestrogen produced"}' | "$work/tools/splade" encode --model "$model" --role query)
echo "$line"
case "$line" in *'"id":"q1"'*'"indices":['*) ;; *) echo "error: splade encode printed no vector" >&2; exit 1 ;; esac

echo "== consumer 3: a web app with AddSparseEncoder / MapSparseEncoderEndpoints"
mkdir "$work/web" && cd "$work/web"
quiet dotnet new web --name SpladeWeb --output .
quiet dotnet add package Splade.Server --version "$version"
cp "$repo/tests/consumers/web/Program.cs" Program.cs
quiet dotnet build -c Release --nologo
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
Splade__Model="$model" Splade__Threads=1 ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet bin/Release/net10.0/SpladeWeb.dll > "$work/web.log" 2>&1 &
web_pid=$!
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$web_pid" 2>/dev/null; then cat "$work/web.log" >&2; echo "error: the web consumer exited" >&2; exit 1; fi
  sleep 0.5
done
echo "+ curl -X POST http://127.0.0.1:$port/embed_sparse"
body=$(curl -fsS -X POST "http://127.0.0.1:$port/embed_sparse" -H 'Content-Type: application/json' -d '{"inputs": "where is oestrogen produced", "role": "query"}')
echo "${body:0:200}"
case "$body" in '[[{"index":'*) ;; *) cat "$work/web.log" >&2; echo "error: /embed_sparse gave no sparse vector" >&2; exit 1 ;; esac
echo "+ curl http://127.0.0.1:$port/healthz"
health=$(curl -fsS "http://127.0.0.1:$port/healthz")
echo "$health"
[ "$health" = "Healthy" ] || { echo "error: the health check says $health" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/hello" >/dev/null
echo
echo "consumer checks passed"
