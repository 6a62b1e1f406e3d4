# bench-table.awk turns `go test -bench` output (and the fan-out
# simulation's log lines) into a Markdown table: one row per benchmark,
# one column per metric, in a fixed order; other metrics are left out.
BEGIN {
	n = split("ns/op rows/s rows/cpu-s cpu-ns/cell MB/s B/op allocs/op", unit, " ")
	printf "| benchmark | iterations |"
	for (i = 1; i <= n; i++) printf " %s |", unit[i]
	printf "\n|---|---|"
	for (i = 1; i <= n; i++) printf "---|"
	printf "\n"
}
/^Benchmark/ {
	delete v
	for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
	printf "| %s | %s |", $1, $2
	for (i = 1; i <= n; i++) printf " %s |", ((unit[i] in v) ? v[unit[i]] : "")
	printf "\n"
}
/^cpu:/ { cpu = $0 }
/(plan:|simulated) / { sub(/^[ \t]*sim_test.go:[0-9]+: /, ""); sim = sim "\n- " $0 }
/^(--- FAIL|FAIL)/ { fail = fail "\n- " $0 }
END {
	if (cpu != "") print "\n" cpu
	if (sim != "") print "\nFan-out simulation:" sim
	if (fail != "") print "\nFailures:" fail
}
