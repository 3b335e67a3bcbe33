#!/usr/bin/env bash
# Builds fuzz_gb_message.c with clang's libFuzzer (Debian: clang, libfuzzer-14-dev) and runs it for
# SECONDS (default 120) over a corpus seeded with tests/fixtures/gb28181/. Crashes are written to
# the work directory (crash-*); turn each into a fixture and a unit test.
#   tests/unit/gb28181/fuzz.sh [SECONDS] [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
secs=${1:-120}
work=${2:-$(mktemp -d /tmp/agw-fuzz-gb-XXXXXX)}
command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 77; }
mkdir -p "$work/corpus"
cp "$src"/tests/fixtures/gb28181/*.xml "$src"/tests/fixtures/gb28181/*.sip "$work/corpus/"
cmake -DIN="$src/adapters/gb28181/gb28181-events.conf" -DOUT="$work/events_data.c" -DNAME=agw_gb_events_data \
  -P "$src/adapters/gb28181/embed.cmake"
gb="$src/adapters/gb28181"
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I"$src/include" -I"$gb" -I"$src/gateway/core" \
  $(pkg-config --cflags libxml-2.0 libosip2) "$here/fuzz_gb_message.c" \
  "$gb"/gb_{sip,text,manscdp,events,alarm,message}.c "$work/events_data.c" "$src"/gateway/core/*.c \
  -o "$work/fuzz_gb" $(pkg-config --libs libxml-2.0 libosip2 jansson libcurl libuv) -lpthread -lm
cd "$work"
./fuzz_gb -max_total_time="$secs" -max_len=70000 corpus
echo "fuzz.sh: no crash in $secs s ($work)"
