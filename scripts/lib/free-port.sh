# Sourced by the scripts that start servers of their own: `free_port` prints a TCP port on
# 127.0.0.1 that nothing listens on (asked of the kernel through python3 or node; a random high
# port when neither is there).
# shellcheck shell=bash
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  elif command -v node >/dev/null 2>&1; then
    node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  else
    echo $((20000 + RANDOM % 30000))
  fi
}
