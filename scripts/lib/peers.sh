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
# 1: the peers also do the per-request work Switchyard does by default
# (haproxy_same_work below); 0: their own defaults.
peer_same_work=${peer_same_work:-0}

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
  case "$name" in
    haproxy) [ "$peer_same_work" -eq 1 ] && haproxy_same_work >>"$out" ;;
    nginx) nginx_proxy_headers "$dir" ;;
  esac
  return 0
}

# With peer_same_work=1 the peers add what Switchyard adds by default, so
# that a comparison weighs the same work: to the upstream request
# X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host, Forwarded,
# an X-Request-Id of random hex digits when the client sent none (a uuid for
# HAProxy) and Via; to the response Via and, for a client without one, an
# assignment cookie (Set-Cookie: sy_uid=<random>; Path=/; Max-Age=2592000;
# HttpOnly; SameSite=Lax). Lines for HAProxy's backend section (the
# template's last).
haproxy_same_work() {
  cat <<'EOF'
    # Added by scripts/lib/peers.sh (peer_same_work=1): Switchyard's default work.
    option forwardfor
    http-request set-header X-Forwarded-Proto %[ssl_fc,iif(https,http)]
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header Forwarded "for=%[src];proto=%[ssl_fc,iif(https,http)];host=\"%[req.hdr(host)]\""
    http-request set-header X-Request-Id %[uuid] unless { req.hdr(x-request-id) -m found }
    http-request add-header Via "1.1 haproxy"
    http-request set-var(txn.assign) bool(true) unless { req.cook(sy_uid) -m found }
    http-response add-header Via "1.1 haproxy"
    http-response add-header Set-Cookie "sy_uid=%[uuid]; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax" if { var(txn.assign) -m bool }
EOF
}

# One line for a results header: which work the peers were configured for.
peer_work_summary() {
  if [ "$peer_same_work" -eq 1 ]; then
    echo "peers configured for the same work as Switchyard (--same-work: X-Forwarded-*, Forwarded, X-Request-Id, Via, assignment cookie)"
  else
    echo "peers with their defaults (Switchyard adds X-Forwarded-*, Forwarded, X-Request-Id, Via and an assignment cookie; they do not)"
  fi
}

# NGINX's locations include DIR/proxy_headers.conf (the fields sent
# upstream and added to responses) and its http block DIR/http_extra.conf:
# only the Connection field cleared for upstream keep-alive, or with
# peer_same_work=1 also the work described above haproxy_same_work.
nginx_proxy_headers() {
  local dir=$1
  printf 'proxy_set_header Connection "";\n' >"$dir/proxy_headers.conf"
  : >"$dir/http_extra.conf"
  [ "$peer_same_work" -eq 1 ] || return 0
  cat >>"$dir/proxy_headers.conf" <<'EOF'
# Added by scripts/lib/peers.sh (peer_same_work=1): Switchyard's default work.
proxy_set_header Host $http_host;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_set_header X-Forwarded-Host $http_host;
proxy_set_header Forwarded "for=$remote_addr;proto=$scheme;host=\"$http_host\"";
proxy_set_header X-Request-Id $sy_request_id;
proxy_set_header Via "1.1 nginx";
add_header Via "1.1 nginx";
add_header Set-Cookie $sy_assign_cookie;
EOF
  cat >"$dir/http_extra.conf" <<'EOF'
map $http_x_request_id $sy_request_id { "" $request_id; default $http_x_request_id; }
map $cookie_sy_uid $sy_assign_cookie {
    "" "sy_uid=$request_id; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax";
    default "";
}
EOF
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
