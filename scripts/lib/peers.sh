# shellcheck shell=bash disable=SC2154 # repo is set by the script that sources this
# The HAProxy and NGINX peers of scripts/bench.sh and scripts/zdd-check.sh:
# configs from bench/haproxy.cfg.in and bench/nginx.conf.in (tuned as fair
# reverse proxies; see there), every path in the run's temp dir, so nothing
# of the system's haproxy or nginx is touched. Needs `repo`.

# HAProxy needs about two descriptors per connection.
peer_maxconn=$((($(ulimit -n) - 200) / 2))
[ "$peer_maxconn" -gt 100000 ] && peer_maxconn=100000
# NGINX connections per worker (clients and upstream connections alike).
peer_worker_connections=8192

# write_peer_config haproxy|nginx OUTPUT WORKERS PORT DIR UPSTREAM_PORT...:
# the peer listening on 127.0.0.1:PORT with WORKERS threads or processes, in
# front of the switchyard-echo servers on 127.0.0.1:UPSTREAM_PORT...
write_peer_config() {
  local name=$1 out=$2 workers=$3 port=$4 dir=$5 template servers="" user_line="" i=0 p text
  shift 5
  case "$name" in
    haproxy) template="$repo/bench/haproxy.cfg.in" ;;
    nginx) template="$repo/bench/nginx.conf.in" ;;
    *) die "write_peer_config: unknown peer '$name'" ;;
  esac
  for p in "$@"; do
    i=$((i + 1))
    case "$name" in
      haproxy) servers+="    server echo$i 127.0.0.1:$p"$'\n' ;;
      nginx) servers+="        server 127.0.0.1:$p;"$'\n' ;;
    esac
  done
  # nginx as root would switch its workers to "nobody", who cannot write here.
  if [ "$(id -u)" -eq 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
  text=$(<"$template")
  text=${text//@SERVERS@/${servers%$'\n'}}
  text=${text//@WORKERS@/$workers}
  text=${text//@PORT@/$port}
  text=${text//@TMPDIR@/$dir}
  text=${text//@MAXCONN@/$peer_maxconn}
  text=${text//@WORKER_CONNECTIONS@/$peer_worker_connections}
  text=${text//@USER_LINE@/$user_line}
  printf '%s\n' "$text" >"$out"
}

# nginx_add_servers CONF EXTRA: inserts the server blocks of file EXTRA
# into CONF's http block, before its closing brace (the template's last
# line).
nginx_add_servers() {
  local conf=$1 extra=$2
  awk -v extra="$extra" '
    { line[NR] = $0 } $0 ~ /^}[ \t]*$/ { last = NR }
    END { for (i = 1; i <= NR; i++) {
            if (i == last) while ((getline l < extra) > 0) print l
            print line[i] } }' "$conf" >"$conf.new"
  mv "$conf.new" "$conf"
}
