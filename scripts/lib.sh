# Shared by the test scripts (source it): one running tally of passed and failed tests over the
# steps of a suite, read from the runners' own summaries, so every script counts the same way.

TALLY_PASSED=0
TALLY_FAILED=0

# count_results LOG: prints "PASSED FAILED" summed over cargo's `test result:` lines and node's
# summaries (spec `ℹ pass N`, TAP `# pass N`); prints nothing when the log has none.
count_results() {
    awk '/^test result:/ {
             for (i = 2; i <= NF; i++) {
                 if ($i ~ /^passed;?$/) p += $(i - 1)
                 if ($i ~ /^failed;?$/) f += $(i - 1)
             }
             seen = 1
         }
         /^(ℹ|#) pass [0-9]+$/ {p += $3; seen = 1}
         /^(ℹ|#) fail [0-9]+$/ {f += $3; seen = 1}
         END {if (seen) print p + 0, f + 0}' "$1"
}

# tally NAME STATUS LOG: adds the tests counted in LOG, or one pass (or failure) for a step that
# runs no tests; a step that failed without any failing test counted still counts one failure.
tally() {
    local name="$1" status="$2" log="$3" counts p f
    counts="$(count_results "$log")"
    if [[ -n "$counts" ]]; then
        read -r p f <<<"$counts"
    else
        p=0 f=0
        ((status == 0)) && p=1
    fi
    ((status != 0 && f == 0)) && f=1
    TALLY_PASSED=$((TALLY_PASSED + p))
    TALLY_FAILED=$((TALLY_FAILED + f))
    printf '== %s: %d passed, %d failed\n' "$name" "$p" "$f"
}
