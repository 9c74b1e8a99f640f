#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, from Debian's packages, for the opt-in
# SLURM test. Everything lives under $SLURM_STATE (default /tmp/dlmia-slurm); its
# slurm.conf is linked from /etc/slurm/slurm.conf, where job steps look for it.
#   tests/slurm/cluster.sh install   # apt-get install munge slurmctld slurmd slurm-client
#   tests/slurm/cluster.sh start     # munged, slurmctld, slurmd; waits until the node is idle
#   tests/slurm/cluster.sh stop      # stops the daemons it started (by their pid files)
set -euo pipefail
state=${SLURM_STATE:-/tmp/dlmia-slurm}
conf=$state/slurm.conf

start() {
  mkdir -p "$state"/{spool,ctld,log,munge}
  chmod 700 "$state/munge"
  host=$(hostname -s)
  memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  cat > "$conf" <<CONF
ClusterName=dlmia
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state/log/jobcomp.txt
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmdSpoolDir=$state/spool
StateSaveLocation=$state/ctld
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  [ -f "$state/munge/munge.key" ] || dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$state/munge/munge.key"
  munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/socket" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/log/munged.log" --seed-file="$state/munge/seed"
  if [ -e /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" != "$conf" ]; then
    echo "/etc/slurm/slurm.conf exists and is not this test cluster's; not touching it" >&2
    return 1
  fi
  mkdir -p /etc/slurm
  ln -sfn "$conf" /etc/slurm/slurm.conf
  # slurmctld and slurmd talk to munge through its default socket path.
  mkdir -p /run/munge
  ln -sf "$state/munge/socket" /run/munge/munge.socket.2
  slurmctld -f "$conf"
  slurmd -f "$conf"
  for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then echo "SLURM up: $(sinfo -h -o '%P %D %t %c')"; return 0; fi
    sleep 1
  done
  echo "SLURM did not come up; see $state/log" >&2
  return 1
}

stop() {
  for pid in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
  done
  rm -f /run/munge/munge.socket.2
  [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$conf" ] && rm -f /etc/slurm/slurm.conf
  return 0
}

case ${1:-} in
  install) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq munge slurmctld slurmd slurm-client ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
