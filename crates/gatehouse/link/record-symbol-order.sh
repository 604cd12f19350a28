#!/usr/bin/env bash
# Writes symbol-order.txt beside this script: the functions of the release binary that run while it
# starts and serves the benchmark's scenarios, in the order they first run. The release link places
# them first and together (build.rs), so the pages of code the server touches hold little else: the
# kernel maps the code around every page fault (64 KiB), and with the functions scattered over the
# binary that mapped most of its 15 MiB of code. See docs/performance.md ("Memory").
#
# Run from the repository root after `cargo build --release && cargo build --release -p gatehouse-bench`
# (the server built on its own: built with the benchmark its names differ), with valgrind installed;
# then build again. With DATABASE_URL set to a PostgreSQL database, the scenarios
# run on PostgreSQL too, so its driver's code is placed as well. Names that no longer match (a
# function changed, a dependency was updated) are skipped by the linker, so a stale list costs
# memory, never correctness: the benchmark's idle RSS shows when it is time to record it again.
set -euo pipefail

binary="$PWD/target/release/gatehouse"
out="$(dirname "$0")/symbol-order.txt"
work="$(mktemp -d)"
dumper=""
cleanup() {
    [ -n "$dumper" ] && kill "$dumper" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The benchmark stops its servers with SIGKILL, so callgrind never writes its profile at exit: ask
# every running callgrind for a dump each second instead. Each dump holds what ran since the last.
cat >"$work/gatehouse" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file=$work/cg.%p "$binary" "\$@"
EOF
chmod +x "$work/gatehouse"
# A dump asked of a server the benchmark is killing can hang (vgdb stays attached, and the benchmark
# waits for the server): such a dump is given up after 5 s.
(while sleep 1; do timeout -k 1 5 callgrind_control -d >/dev/null 2>&1 || pkill -9 -x vgdb; done) &
dumper=$!

databases=("")
[ -n "${DATABASE_URL:-}" ] && databases+=("--database-url=$DATABASE_URL")
for database in "${databases[@]}"; do
    target/release/gatehouse-bench --gatehouse "$work/gatehouse" --seconds 2 --concurrency 2 \
        --users 10 --totp-users 10 ${database:+"$database"} >"$work/bench.txt" 2>&1 || {
        cat "$work/bench.txt"
        exit 1
    }
done

# Profiles in the order they were written (by process, then dump), and in each the functions of the
# binary (object `ob=`/`cob=`) named in `fn=`/`cfn=` lines, first appearance first. Callgrind
# compresses repeated names to "(id)"; its recursion marks ("'2") and unnamed code are dropped.
find "$work" -name 'cg.*' | sort -t. -k2,2n -k3,3n | xargs awk -v binary="$binary" '
    FNR == 1 { delete fns; delete objs; ob = ""; cob = "" }
    function resolve(val, table,    id, name) {
        if (match(val, /^\([0-9]+\)/)) {
            id = substr(val, 2, RLENGTH - 2)
            name = substr(val, RLENGTH + 2)
            if (name != "") table[id] = name
            return table[id]
        }
        return val
    }
    /^(ob|cob|fn|cfn)=/ {
        key = substr($0, 1, index($0, "=") - 1)
        val = substr($0, index($0, "=") + 1)
        if (key == "ob") { ob = resolve(val, objs); cob = ""; next }
        if (key == "cob") { cob = resolve(val, objs); next }
        name = resolve(val, fns)
        object = (key == "cfn" && cob != "") ? cob : ob
        if (key == "cfn") cob = ""
        sub(/'\''[0-9]+$/, "", name)
        if (object == binary && name !~ /^(0x|\(below main\))/ && !(name in seen)) {
            seen[name] = 1
            print name
        }
    }' >"$out"
echo "$(wc -l <"$out") functions written to $out"
