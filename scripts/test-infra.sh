# Sourced by the test command (and the fault suite): a Kafka broker and a FerretDB of their own,
# on free ports, so that they never see a running system's data nor it theirs.
# start_test_infra exports KAFKA_BROKERS and MONGODB_URI for what runs next and, unless KEEP_INFRA
# is set, stops the pair and removes its data when the calling shell exits.

# Free loopback ports: Kafka, its controller and FerretDB. With LOCAL_KAFKA_BROKERS=3 the first
# is the base of six ports in a row (each node takes two, scripts/infra.sh), all free.
free_ports() {
  node -e '
    const net = require("node:net");
    const run = Number(process.env.LOCAL_KAFKA_BROKERS ?? 1) === 3 ? 6 : 1;
    const hold = (port) => new Promise((resolve) => {
      const s = net.createServer().once("error", () => resolve(undefined)).listen(port, "127.0.0.1", () => resolve(s));
    });
    (async () => {
      for (;;) {
        const first = await hold(0);
        const base = first.address().port;
        const rest = await Promise.all(Array.from({ length: run - 1 }, (_, i) => hold(base + i + 1)));
        const others = await Promise.all([hold(0), hold(0)]);
        const held = [first, ...rest, ...others];
        if (held.every(Boolean)) {
          console.log([base, others[0].address().port, others[1].address().port].join(" "));
          held.forEach((s) => s.close());
          return;
        }
        held.forEach((s) => s && s.close());
      }
    })();'
}

start_test_infra() {
  local dir stale
  # A run that was killed leaves its pair behind: stop it.
  for stale in "$ROOT"/.local/test/run-*; do
    [[ -d $stale ]] && ! kill -0 "${stale##*-}" 2>/dev/null || continue
    LOCAL_INFRA_DIR=$stale bash "$ROOT/scripts/infra.sh" down
    rm -rf "$stale"
  done
  if [[ -n ${KEEP_INFRA:-} ]]; then
    dir=$ROOT/.local/test/kept
    mkdir -p "$dir"
    [[ -s $dir/ports ]] || free_ports >"$dir/ports"
  else
    dir=$ROOT/.local/test/run-$$
    rm -rf "$dir" && mkdir -p "$dir"
    free_ports >"$dir/ports"
    # shellcheck disable=SC2064  # the directory is fixed now
    trap "LOCAL_INFRA_DIR='$dir' bash '$ROOT/scripts/infra.sh' down; rm -rf '$dir'" EXIT
  fi
  read -r kafka_port controller_port ferretdb_port <"$dir/ports"
  # Exported so that what runs next (the fault suite) can restart the pair where it was.
  export LOCAL_INFRA_DIR=$dir LOCAL_KAFKA_PORT=$kafka_port LOCAL_KAFKA_CONTROLLER_PORT=$controller_port LOCAL_FERRETDB_PORT=$ferretdb_port
  # What is given in KAFKA_BROKERS or MONGODB_URI is used as it is (never a live system's).
  bash "$ROOT/scripts/infra.sh" up
  export KAFKA_BROKERS=${KAFKA_BROKERS:-$(bash "$ROOT/scripts/infra.sh" brokers)}
  [[ ${LOCAL_KAFKA_BROKERS:-1} == 3 ]] && export KAFKA_REPLICATION_FACTOR=3
  export MONGODB_URI=${MONGODB_URI:-mongodb://127.0.0.1:$ferretdb_port}
  echo "[test] testing against Kafka $KAFKA_BROKERS and ${MONGODB_URI%%\?*} (the tests' own, data in ${dir#"$ROOT"/})" >&2
}
