#!/usr/bin/env bash
# Local infrastructure for one machine: Apache Kafka 3.9 (KRaft) and FerretDB 1.24 (SQLite), and
# the binary of Mailpit 1.33, the mail outbox npm start runs (scripts/run-services.ts starts it).
#
#   scripts/infra.sh install          build or download what is missing into the user cache
#   scripts/infra.sh mailpit-path     print where Mailpit's binary is (or will be) built
#   scripts/infra.sh up               install, start what is not running, wait until both answer
#   scripts/infra.sh down             stop what this clone started
#   scripts/infra.sh status           say what runs where
#   scripts/infra.sh brokers          print the Kafka bootstrap list of what `up` started
#   scripts/infra.sh kill-broker N    kill -9 Kafka node N (1 for the single broker), for fault tests
#   scripts/infra.sh start-broker N   start node N again and wait until every node answers
#
# Binaries are cached under ${CC_CACHE_DIR:-~/.cache/contact-center} so that another clone on
# the same machine reuses them; data, logs and pid files live in .local/ of this clone
# (LOCAL_INFRA_DIR to put them elsewhere: the test command runs its own pair there, on ports of its own).
# KAFKA_BROKERS or MONGODB_URI set in the environment means "use that one": nothing is started for it.
#
# LOCAL_KAFKA_BROKERS=3 starts three Kafka nodes instead of one, each broker and controller, with
# replication factor 3 and min.insync.replicas 2. Node N (1-3) takes the two ports
# LOCAL_KAFKA_PORT+2(N-1) (clients) and the one after it (controller): 9092/9093, 9094/9095,
# 9096/9097 by default, so node 1 sits where the single broker does.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/contact-center}
LOCAL=${LOCAL_INFRA_DIR:-$ROOT/.local}
RUN=$LOCAL/run
LOGS=$LOCAL/logs

KAFKA_VERSION=3.9.1
FERRETDB_VERSION=1.24.2
MAILPIT_VERSION=1.33.1
KAFKA_PORT=${LOCAL_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${LOCAL_KAFKA_CONTROLLER_PORT:-9093}
FERRETDB_PORT=${LOCAL_FERRETDB_PORT:-27017}
KAFKA_NODES=${LOCAL_KAFKA_BROKERS:-1}
[[ $KAFKA_NODES == 1 || $KAFKA_NODES == 3 ]] || { echo "[infra] error: LOCAL_KAFKA_BROKERS must be 1 or 3 (got \"$KAFKA_NODES\")" >&2; exit 2; }
if ((KAFKA_NODES == 1)); then KAFKA_HEAP=${LOCAL_KAFKA_HEAP:-768m}; else KAFKA_HEAP=${LOCAL_KAFKA_HEAP:-384m}; fi

KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
FERRETDB_BIN=$CACHE/ferretdb-$FERRETDB_VERSION-idindex/bin/ferretdb
MAILPIT_BIN=$CACHE/mailpit-$MAILPIT_VERSION/bin/mailpit
# Go's official installer puts it here, outside the default PATH.
[[ -x /usr/local/go/bin/go ]] && ! command -v go >/dev/null 2>&1 && PATH=$PATH:/usr/local/go/bin

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# What a process of ours has on its command line: a pid file is only believed while the process
# it names still runs this program (a pid is reused once its process is gone).
process_marker() {
  case $1 in
    ferretdb) echo "--state-dir=$LOCAL/ferretdb" ;;
    *) echo "$LOCAL/$1/server.properties" ;;
  esac
}

# Gone, or a zombie: killed with -9, a process stays visible to kill -0 until it is reaped.
proc_gone() {
  ! kill -0 "$1" 2>/dev/null || [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) == Z ]]
}

pid_alive() {
  local f=$RUN/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] && ! proc_gone "$pid" || return 1
  [[ -r /proc/$pid/cmdline ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(process_marker "$1")"
}

# A process killed with -9 can still hold its ports for a moment after its pid looks gone (its
# other threads are still exiting): before a stale program's ports are judged, give it 10 s.
await_release() { # await_release NAME PORT…
  local name=$1 p busy
  shift
  [[ -f $RUN/$name.pid ]] && ! pid_alive "$name" || return 0
  for _ in $(seq 1 50); do
    busy=
    for p in "$@"; do port_in_use "$p" && busy=1; done
    [[ -z $busy ]] && return 0
    sleep 0.2
  done
}

# Said before starting a program whose pid file is left from a process that is gone.
note_stale() {
  [[ -f $RUN/$1.pid ]] || return 0
  say "$1 (pid $(cat "$RUN/$1.pid")) is no longer running; starting it again"
  rm -f "$RUN/$1.pid"
}

# Programs started by this run, and where each of their logs stood before the start, so that a
# start-up failure shows its exit code and only what that start wrote.
declare -A STARTED=() WATCH=()

launch() { # launch NAME "LOG [LOG…]" COMMAND…
  local name=$1 out f logs
  read -r -a logs <<<"$2"
  shift 2
  out=${logs[0]}
  mkdir -p "$RUN" "$(dirname "$out")"
  printf '[infra] %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$out"
  WATCH[$name]=
  for f in "${logs[@]}"; do
    mkdir -p "$(dirname "$f")" && touch "$f"
    WATCH[$name]+="$(stat -c %s "$f") $f"$'\n'
  done
  nohup "$@" >>"$out" 2>&1 &
  STARTED[$name]=$!
  echo $! >"$RUN/$name.pid"
}

start_failed() {
  local name=$1 pid=${STARTED[$1]} rc=0 off f shown=
  wait "$pid" || rc=$?
  if ((rc > 128)); then rc="signal $(kill -l $((rc - 128)))"; else rc="exit code $rc"; fi
  say "$name (pid $pid) exited during start-up with $rc"
  while read -r off f; do
    [[ -n $f && -f $f ]] && (($(stat -c %s "$f") > off)) || continue
    say "what it wrote to $f:"
    tail -c +"$((off + 1))" "$f" | tail -40 >&2
    shown=1
  done <<<"${WATCH[$name]}"
  [[ -n $shown ]] || say "it wrote nothing to $(echo "${WATCH[$name]}" | awk 'NF {print $2}' | paste -sd' ')"
  die "$name did not start (see above)"
}

# Waits until `kind` answers at `target`. A process named after it that this run started and
# that exits is a start-up failure; one that ran before (being killed as `up` began, say) and
# exits meanwhile is started again.
wait_ready() {
  local kind=$1 target=$2 limit=90 name
  # Three JVMs electing a controller on two busy cores can take longer than one.
  [[ $kind == kafka ]] && ((KAFKA_NODES == 3)) && limit=180
  local deadline=$((SECONDS + limit))
  shift 2
  mkdir -p "$LOCAL"
  until node "$ROOT/scripts/check-infra.mjs" "$kind" "$target" >/dev/null 2>"$LOCAL/check-$kind.err"; do
    for name in "$@"; do
      [[ -f $RUN/$name.pid ]] && ! pid_alive "$name" || continue
      [[ -z ${STARTED[$name]:-} ]] || start_failed "$name"
      start_named "$name"
    done
    ((SECONDS < deadline)) || die "$kind at $target not ready after $limit s: $(tail -1 "$LOCAL/check-$kind.err")"
    sleep 0.5
  done
  say "$kind ready at $target"
}

start_named() {
  case $1 in
    ferretdb) start_ferretdb ;;
    *) note_stale "$1" && launch_kafka "$1" ;;
  esac
}

# Stops the named programs together (Kafka nodes shut down faster side by side than in turn).
stop_all() {
  local name pid pids=()
  for name in "$@"; do
    if pid_alive "$name"; then
      pid=$(cat "$RUN/$name.pid")
      say "stopping $name (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$RUN/$name.pid"
  done
  for _ in $(seq 1 60); do
    local left=0
    for pid in "${pids[@]}"; do proc_gone "$pid" || left=1; done
    ((left)) || return 0
    sleep 0.5
  done
  for pid in "${pids[@]}"; do proc_gone "$pid" || { say "pid $pid did not stop within 30 s; killing it"; kill -9 "$pid" 2>/dev/null || true; }; done
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

install_mailpit() {
  [[ -x $MAILPIT_BIN ]] && return
  need go "install Go 1.22+ (https://go.dev/doc/install), or set SMTP_URL to send outbound mail to a server of your own"
  need npm "install Node.js with npm"
  local module=github.com/axllent/mailpit src work=$CACHE/mailpit-$MAILPIT_VERSION/src
  say "building Mailpit $MAILPIT_VERSION from the Go module proxy into $(dirname "$MAILPIT_BIN")"
  src=$(go mod download -json "$module@v$MAILPIT_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || die "go mod download $module@v$MAILPIT_VERSION did not produce a source folder"
  rm -rf "$work" && mkdir -p "$(dirname "$MAILPIT_BIN")" && cp -r "$src" "$work" && chmod -R u+w "$work"
  # The module holds the web view's sources, not its bundle: esbuild makes it from npm packages.
  # Only the packages the bundle needs are installed (linters and browser tests are left out), at
  # the newest versions the registry serves within the ranges, since some pinned in the lock file
  # are not served everywhere; the API docs page (rapidoc) is left out for that reason too.
  (
    cd "$work" &&
      rm -f package-lock.json &&
      npm pkg delete dependencies.rapidoc devDependencies.eslint devDependencies.@eslint/compat devDependencies.@eslint/js \
        devDependencies.@playwright/test devDependencies.@types/bootstrap devDependencies.eslint-config-prettier \
        devDependencies.eslint-plugin-vue devDependencies.globals devDependencies.jsdom devDependencies.prettier &&
      sed -i 's#, "server/ui-src/docs.js"##' esbuild.config.mjs &&
      npm install --ignore-scripts --omit=peer --no-audit --no-fund --loglevel=error &&
      MINIFY=true node esbuild.config.mjs
  ) >"$work.log" 2>&1 || { tail -40 "$work.log" >&2; die "could not build Mailpit's web view (see above; the full log is $work.log)"; }
  [[ -s $work/server/ui/dist/app.js ]] || die "Mailpit's web view was not built (see $work.log)"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=v$MAILPIT_VERSION" -o "$MAILPIT_BIN.tmp" .)
  mv "$MAILPIT_BIN.tmp" "$MAILPIT_BIN"
  rm -rf "$work" "$work.log"
}

# Kafka node NAME lives in $LOCAL/NAME: "kafka" for the single broker, kafka-1… for the cluster.
kafka_log_dir() { if [[ $1 == kafka ]]; then echo "$LOGS"; else echo "$LOGS/$1"; fi; }
kafka_jvm() {
  # Three JVMs share two cores: the client compiler only, and one GC thread, leave CPU for the
  # brokers' own work (start-up took minutes on a busy machine with the defaults).
  local gc="-Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20"
  ((KAFKA_NODES == 1)) || gc="-Xms128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
  echo "$gc -Xmx$KAFKA_HEAP -Djava.awt.headless=true -Dkafka.logs.dir=$(kafka_log_dir "$1") -Dlog4j.configuration=file:$ROOT/deploy/local/kafka/log4j.properties"
}
kafka_controller_port() { sed -n 's#^listeners=.*CONTROLLER://127.0.0.1:\([0-9]*\)$#\1#p' "$LOCAL/$1/server.properties"; }
kafka_client_port() { sed -n 's#^advertised.listeners=PLAINTEXT://127.0.0.1:\([0-9]*\)$#\1#p' "$LOCAL/$1/server.properties"; }

# Checks the node's ports and writes its settings: write_kafka_conf NAME NODE_ID PORT CONTROLLER_PORT TEMPLATE VOTERS
write_kafka_conf() {
  local name=$1 id=$2 port=$3 controller=$4 template=$5 voters=$6
  await_release "$name" "$port" "$controller"
  port_in_use "$port" && die "port $port (Kafka $name) is taken by another program; stop it, or choose other ports with LOCAL_KAFKA_PORT"
  port_in_use "$controller" && die "port $controller (Kafka $name controller) is taken by another program; stop it or set LOCAL_KAFKA_CONTROLLER_PORT"
  mkdir -p "$LOCAL/$name/data" "$LOGS" "$RUN"
  sed -e "s#@DATA_DIR@#$LOCAL/$name/data#" -e "s#@KAFKA_PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller#g" \
    -e "s#@NODE_ID@#$id#g" -e "s#@VOTERS@#$voters#g" "$ROOT/deploy/local/kafka/$template" >"$LOCAL/$name/server.properties"
}

format_kafka() { # format_kafka NAME CLUSTER_ID
  [[ -f $LOCAL/$1/data/meta.properties ]] && return 0
  say "formatting Kafka storage in $LOCAL/$1/data"
  # shellcheck disable=SC2046  # the JVM options are words
  java $(kafka_jvm "$1") -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool format -t "$2" -c "$LOCAL/$1/server.properties" \
    >>"$LOGS/$1-format.log" 2>&1 || { say "formatting Kafka storage failed; see $LOGS/$1-format.log"; return 1; }
}

kafka_cluster_id() {
  local f=$LOCAL/kafka-cluster.id
  [[ -s $f ]] || java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid >"$f" 2>>"$LOGS/kafka-cluster-format.log"
  cat "$f"
}

launch_kafka() {
  local name=$1 port
  port=$(kafka_client_port "$name")
  await_release "$name" "$port" "$(kafka_controller_port "$name")"
  say "starting Kafka $KAFKA_VERSION node $name on 127.0.0.1:$port (heap $KAFKA_HEAP)"
  # shellcheck disable=SC2046
  launch "$name" "$LOGS/$name.out $(kafka_log_dir "$name")/kafka.log" \
    java $(kafka_jvm "$name") -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$LOCAL/$name/server.properties"
}

start_kafka() {
  if ((KAFKA_NODES == 3)); then start_kafka_cluster; return; fi
  if pid_alive kafka; then say "Kafka already running (pid $(cat "$RUN/kafka.pid"))"; return; fi
  await_release kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  if port_in_use "$KAFKA_PORT"; then
    if node "$ROOT/scripts/check-infra.mjs" kafka "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1; then
      say "a working Kafka already listens on 127.0.0.1:$KAFKA_PORT; using it"
      return
    fi
    die "port $KAFKA_PORT is taken by another program that is not a working Kafka broker; stop it, or set KAFKA_BROKERS to a broker to use"
  fi
  install_kafka
  write_kafka_conf kafka 1 "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" server.properties "1@127.0.0.1:$KAFKA_CONTROLLER_PORT"
  if [[ ! -f $LOCAL/kafka/data/meta.properties ]]; then
    format_kafka kafka "$(java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid)" || die "could not format Kafka storage"
  fi
  note_stale kafka
  launch_kafka kafka
}

start_kafka_cluster() {
  local n name voters= todo=() pids=() i
  for n in 1 2 3; do voters+="${voters:+,}$n@127.0.0.1:$((KAFKA_PORT + 2 * n - 1))"; done
  for n in 1 2 3; do
    name=kafka-$n
    if pid_alive "$name"; then say "Kafka $name already running (pid $(cat "$RUN/$name.pid"))"; continue; fi
    install_kafka
    write_kafka_conf "$name" "$n" "$((KAFKA_PORT + 2 * n - 2))" "$((KAFKA_PORT + 2 * n - 1))" cluster.properties "$voters"
    todo+=("$name")
  done
  ((${#todo[@]})) || return 0
  # Formatting starts a JVM per node: side by side, it costs one start instead of three.
  local id
  id=$(kafka_cluster_id)
  for name in "${todo[@]}"; do format_kafka "$name" "$id" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || die "could not format Kafka storage"; done
  for name in "${todo[@]}"; do note_stale "$name"; launch_kafka "$name"; done
}

kafka_bootstrap() {
  if ((KAFKA_NODES == 1)); then echo "127.0.0.1:$KAFKA_PORT"; return; fi
  echo "127.0.0.1:$KAFKA_PORT,127.0.0.1:$((KAFKA_PORT + 2)),127.0.0.1:$((KAFKA_PORT + 4))"
}
kafka_names() { if ((KAFKA_NODES == 1)); then echo kafka; else echo kafka-1 kafka-2 kafka-3; fi; }

start_ferretdb() {
  if pid_alive ferretdb; then say "FerretDB already running (pid $(cat "$RUN/ferretdb.pid"))"; return; fi
  await_release ferretdb "$FERRETDB_PORT"
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
  note_stale ferretdb
  say "starting FerretDB $FERRETDB_VERSION (SQLite) on 127.0.0.1:$FERRETDB_PORT"
  # WAL with synchronous=NORMAL: a process crash loses nothing committed; only an operating-system
  # crash may lose the last commits, the same promise Kafka makes without per-message fsync.
  # Log level warn still shows every fatal error; start-up failures are shown with their exit code.
  launch ferretdb "$LOGS/ferretdb.log" \
    "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$data/sqlite/?_pragma=synchronous(normal)" --state-dir="$data" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" --debug-addr=- --telemetry=disable --log-level=warn
}

# Kafka node N as named on disk: kafka-N of a cluster, or the single broker as node 1.
broker_name() {
  [[ ${1:-} =~ ^[1-3]$ ]] || die "give a node number, 1 to 3"
  if [[ -f $LOCAL/kafka-$1/server.properties ]]; then echo "kafka-$1"
  elif [[ $1 == 1 && -f $LOCAL/kafka/server.properties ]]; then echo kafka
  else die "there is no Kafka node $1 in $LOCAL; start it with scripts/infra.sh up first"; fi
}

# The bootstrap list of the cluster (or single broker) node NAME belongs to, as set up in $LOCAL.
recorded_bootstrap() {
  local n list=
  if [[ $1 == kafka ]]; then echo "127.0.0.1:$(kafka_client_port kafka)"; return; fi
  for n in 1 2 3; do
    [[ -f $LOCAL/kafka-$n/server.properties ]] && list+="${list:+,}127.0.0.1:$(kafka_client_port "kafka-$n")"
  done
  echo "$list"
}

case ${1:-} in
  install)
    [[ -n ${KAFKA_BROKERS:-} ]] || install_kafka
    [[ -n ${MONGODB_URI:-} ]] || install_ferretdb
    [[ -n ${SMTP_URL:-} ]] || install_mailpit
    ;;
  mailpit-path)
    echo "$MAILPIT_BIN"
    ;;
  up)
    [[ -d $ROOT/node_modules ]] || die "run npm ci first (scripts/setup.sh does)"
    # Build both before starting either: the FerretDB build is the slow part on a new machine.
    [[ -n ${KAFKA_BROKERS:-} ]] || ((KAFKA_NODES == 3)) || pid_alive kafka || port_in_use "$KAFKA_PORT" || install_kafka
    [[ -n ${MONGODB_URI:-} ]] || pid_alive ferretdb || port_in_use "$FERRETDB_PORT" || install_ferretdb
    if [[ -n ${KAFKA_BROKERS:-} ]]; then say "KAFKA_BROKERS=$KAFKA_BROKERS: not starting a local Kafka"; else start_kafka; fi
    if [[ -n ${MONGODB_URI:-} ]]; then say "MONGODB_URI is set: not starting a local FerretDB"; else start_ferretdb; fi
    if [[ -n ${KAFKA_BROKERS:-} ]]; then wait_ready kafka "$KAFKA_BROKERS"; else
      # shellcheck disable=SC2046  # node names are words
      wait_ready kafka "$(kafka_bootstrap)" $(kafka_names)
    fi
    if [[ -n ${MONGODB_URI:-} ]]; then wait_ready mongodb "$MONGODB_URI"; else wait_ready mongodb "mongodb://127.0.0.1:$FERRETDB_PORT" ferretdb; fi
    if [[ -z ${KAFKA_BROKERS:-} ]] && ((KAFKA_NODES == 3)); then
      say "three Kafka nodes; give services KAFKA_BROKERS=$(kafka_bootstrap) KAFKA_REPLICATION_FACTOR=3"
    fi
    ;;
  down)
    stop_all ferretdb
    stop_all kafka kafka-1 kafka-2 kafka-3
    ;;
  status)
    names=$(kafka_names)
    for n in kafka kafka-1 kafka-2 kafka-3; do [[ " $names " != *" $n "* && -f $RUN/$n.pid ]] && names+=" $n"; done
    for n in $names ferretdb; do
      if ! pid_alive "$n"; then
        if [[ $n == kafka-* ]]; then echo "$n: not running"; else echo "$n: not started by this clone"; fi
      elif [[ $n == kafka-* ]]; then
        echo "$n: running (pid $(cat "$RUN/$n.pid")) on 127.0.0.1:$(kafka_client_port "$n")"
      else
        echo "$n: running (pid $(cat "$RUN/$n.pid"))"
      fi
    done
    ;;
  brokers)
    kafka_bootstrap
    ;;
  kill-broker)
    name=$(broker_name "${2:-}")
    pid_alive "$name" || die "$name is not running"
    pid=$(cat "$RUN/$name.pid")
    kill -9 "$pid"
    for _ in $(seq 1 100); do proc_gone "$pid" && break; sleep 0.1; done
    proc_gone "$pid" || die "$name (pid $pid) still runs 10 s after SIGKILL"
    # The pid file stays, as after a real crash: start-broker and up must cope with it.
    say "killed $name (pid $pid) with SIGKILL"
    ;;
  start-broker)
    name=$(broker_name "${2:-}")
    # A node of a cluster starts as one, whatever LOCAL_KAFKA_BROKERS says now.
    [[ $name == kafka-* ]] && KAFKA_NODES=3 && KAFKA_HEAP=${LOCAL_KAFKA_HEAP:-384m}
    if pid_alive "$name"; then say "$name already running (pid $(cat "$RUN/$name.pid"))"; else
      install_kafka
      note_stale "$name"
      launch_kafka "$name"
    fi
    wait_ready kafka "$(recorded_bootstrap "$name")" "$name"
    ;;
  *)
    echo "usage: scripts/infra.sh install|mailpit-path|up|down|status|brokers|kill-broker N|start-broker N" >&2
    exit 2
    ;;
esac
