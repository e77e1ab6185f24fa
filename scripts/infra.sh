#!/usr/bin/env bash
# Local infrastructure for one machine: Apache Kafka 3.9 (KRaft) and FerretDB 1.24 (SQLite).
#
#   scripts/infra.sh install   build or download what is missing into the user cache
#   scripts/infra.sh up        install, start what is not running, wait until both answer
#   scripts/infra.sh down      stop what this clone started
#   scripts/infra.sh status    say what runs where
#
# Binaries are cached under ${CC_CACHE_DIR:-~/.cache/contact-center} so that another clone on
# the same machine reuses them; data, logs and pid files live in .local/ of this clone
# (LOCAL_INFRA_DIR to put them elsewhere: the test command runs its own pair there, on ports of its own).
# KAFKA_BROKERS or MONGODB_URI set in the environment means "use that one": nothing is started for it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/contact-center}
LOCAL=${LOCAL_INFRA_DIR:-$ROOT/.local}
RUN=$LOCAL/run
LOGS=$LOCAL/logs

KAFKA_VERSION=3.9.1
FERRETDB_VERSION=1.24.2
KAFKA_PORT=${LOCAL_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${LOCAL_KAFKA_CONTROLLER_PORT:-9093}
FERRETDB_PORT=${LOCAL_FERRETDB_PORT:-27017}
KAFKA_HEAP=${LOCAL_KAFKA_HEAP:-768m}

KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
FERRETDB_BIN=$CACHE/ferretdb-$FERRETDB_VERSION-idindex/bin/ferretdb

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() {
  local f=$RUN/$1.pid
  [[ -f $f ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

install_kafka() {
  [[ -f $KAFKA_HOME/.complete ]] && return
  need java "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
  need mvn "install Apache Maven (Debian: apt-get install maven)"
  say "resolving Kafka $KAFKA_VERSION broker jars from Maven Central into $KAFKA_HOME"
  rm -rf "$KAFKA_HOME.tmp" && mkdir -p "$KAFKA_HOME.tmp"
  mvn -q -B -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME.tmp/libs" >"$KAFKA_HOME.tmp/maven.log" 2>&1 ||
    { cat "$KAFKA_HOME.tmp/maven.log" >&2; die "Maven could not resolve the Kafka jars (see above)"; }
  touch "$KAFKA_HOME.tmp/.complete"
  rm -rf "$KAFKA_HOME" && mv "$KAFKA_HOME.tmp" "$KAFKA_HOME"
}

install_ferretdb() {
  [[ -x $FERRETDB_BIN ]] && return
  need go "install Go 1.22+ (https://go.dev/doc/install)"
  local module=github.com/FerretDB/FerretDB src
  say "building FerretDB $FERRETDB_VERSION from the Go module proxy into $(dirname "$FERRETDB_BIN")"
  # `go install …@v$FERRETDB_VERSION` needs the module's version list, which the proxy may
  # refuse, and a build from the module zip lacks the version file FerretDB embeds: so download
  # the exact version, add that file, and build it.
  src=$(go mod download -json "$module@v$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || die "go mod download $module@v$FERRETDB_VERSION did not produce a source folder"
  local work=$CACHE/ferretdb-$FERRETDB_VERSION-idindex/src
  rm -rf "$work" && mkdir -p "$(dirname "$FERRETDB_BIN")" && cp -r "$src" "$work" && chmod -R u+w "$work"
  echo "v$FERRETDB_VERSION" >"$work/build/version/version.txt"
  # The SQLite backend looks documents up by `_ferretdb_sjson->'$._id'` but indexes
  # `_ferretdb_sjson->"_id"`; SQLite matches index expressions by their form, so every read,
  # update and delete by _id scanned the whole table. Spelling the look-up as the index is
  # spelled (same value) lets SQLite use the unique _id index.
  local metadata=$work/internal/backends/sqlite/metadata/metadata.go
  sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$metadata"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$metadata" || die "could not apply the _id index fix to $metadata"
  (cd "$work" && go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$work"
}

start_kafka() {
  if pid_alive kafka; then say "Kafka already running (pid $(cat "$RUN/kafka.pid"))"; return; fi
  if port_in_use "$KAFKA_PORT"; then
    if node "$ROOT/scripts/check-infra.mjs" kafka "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1; then
      say "a working Kafka already listens on 127.0.0.1:$KAFKA_PORT; using it"
      return
    fi
    die "port $KAFKA_PORT is taken by another program that is not a working Kafka broker; stop it, or set KAFKA_BROKERS to a broker to use"
  fi
  port_in_use "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT (Kafka controller) is taken by another program; stop it or set LOCAL_KAFKA_CONTROLLER_PORT"
  install_kafka
  local data=$LOCAL/kafka/data conf=$LOCAL/kafka/server.properties
  mkdir -p "$data" "$LOGS" "$RUN"
  sed -e "s#@DATA_DIR@#$data#" -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/deploy/local/kafka/server.properties" >"$conf"
  local cp="$KAFKA_HOME/libs/*"
  local jvm=(-Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dkafka.logs.dir=$LOGS" "-Dlog4j.configuration=file:$ROOT/deploy/local/kafka/log4j.properties")
  if [[ ! -f $data/meta.properties ]]; then
    say "formatting Kafka storage in $data"
    java "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid)" \
      -c "$conf" >>"$LOGS/kafka-format.log" 2>&1 || die "formatting Kafka storage failed; see $LOGS/kafka-format.log"
  fi
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (heap $KAFKA_HEAP)"
  nohup java "${jvm[@]}" -cp "$cp" kafka.Kafka "$conf" >>"$LOGS/kafka.out" 2>&1 &
  echo $! >"$RUN/kafka.pid"
}

start_ferretdb() {
  if pid_alive ferretdb; then say "FerretDB already running (pid $(cat "$RUN/ferretdb.pid"))"; return; fi
  if port_in_use "$FERRETDB_PORT"; then
    if node "$ROOT/scripts/check-infra.mjs" mongodb "mongodb://127.0.0.1:$FERRETDB_PORT" >/dev/null 2>&1; then
      say "a working MongoDB-wire server already listens on 127.0.0.1:$FERRETDB_PORT; using it"
      return
    fi
    die "port $FERRETDB_PORT is taken by another program that is not a MongoDB-wire server; stop it, or set MONGODB_URI to a server to use"
  fi
  install_ferretdb
  local data=$LOCAL/ferretdb
  mkdir -p "$data/sqlite" "$LOGS" "$RUN"
  say "starting FerretDB $FERRETDB_VERSION (SQLite) on 127.0.0.1:$FERRETDB_PORT"
  # WAL with synchronous=NORMAL: a process crash loses nothing committed; only an operating-system
  # crash may lose the last commits, the same promise Kafka makes without per-message fsync.
  nohup "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$data/sqlite/?_pragma=synchronous(normal)" --state-dir="$data" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" --debug-addr=- --telemetry=disable --log-level=warn \
    >>"$LOGS/ferretdb.log" 2>&1 &
  echo $! >"$RUN/ferretdb.pid"
}

wait_ready() {
  local kind=$1 target=$2 pidname=$3 log=$4 deadline=$((SECONDS + 90))
  mkdir -p "$LOCAL"
  until node "$ROOT/scripts/check-infra.mjs" "$kind" "$target" >/dev/null 2>"$LOCAL/check-$kind.err"; do
    if [[ -n $pidname ]] && [[ -f $RUN/$pidname.pid ]] && ! pid_alive "$pidname"; then
      tail -20 "$log" >&2 || true
      die "$pidname exited during start-up; see $log"
    fi
    ((SECONDS < deadline)) || die "$kind at $target not ready after 90 s: $(tail -1 "$LOCAL/check-$kind.err")"
    sleep 0.5
  done
  say "$kind ready at $target"
}

stop_one() {
  local name=$1 f=$RUN/$1.pid
  pid_alive "$name" || { rm -f "$f"; return; }
  local pid
  pid=$(cat "$f")
  say "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

case ${1:-} in
  install)
    [[ -n ${KAFKA_BROKERS:-} ]] || install_kafka
    [[ -n ${MONGODB_URI:-} ]] || install_ferretdb
    ;;
  up)
    [[ -d $ROOT/node_modules ]] || die "run npm ci first (scripts/setup.sh does)"
    # Build both before starting either: the FerretDB build is the slow part on a new machine.
    [[ -n ${KAFKA_BROKERS:-} ]] || pid_alive kafka || port_in_use "$KAFKA_PORT" || install_kafka
    [[ -n ${MONGODB_URI:-} ]] || pid_alive ferretdb || port_in_use "$FERRETDB_PORT" || install_ferretdb
    if [[ -n ${KAFKA_BROKERS:-} ]]; then say "KAFKA_BROKERS=$KAFKA_BROKERS: not starting a local Kafka"; else start_kafka; fi
    if [[ -n ${MONGODB_URI:-} ]]; then say "MONGODB_URI is set: not starting a local FerretDB"; else start_ferretdb; fi
    wait_ready kafka "${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}" "$([[ -z ${KAFKA_BROKERS:-} ]] && echo kafka)" "$LOGS/kafka.out"
    wait_ready mongodb "${MONGODB_URI:-mongodb://127.0.0.1:$FERRETDB_PORT}" "$([[ -z ${MONGODB_URI:-} ]] && echo ferretdb)" "$LOGS/ferretdb.log"
    ;;
  down)
    stop_one ferretdb
    stop_one kafka
    ;;
  status)
    for n in kafka ferretdb; do
      if pid_alive $n; then echo "$n: running (pid $(cat "$RUN/$n.pid"))"; else echo "$n: not started by this clone"; fi
    done
    ;;
  *)
    echo "usage: scripts/infra.sh install|up|down|status" >&2
    exit 2
    ;;
esac
