#!/bin/sh
# A one-node Slurm cluster on this machine, to try `distillery sweep --plan` against a real
# scheduler (outside CI). Needs Debian's slurm-wlm and munge (apt-get install -y slurm-wlm
# munge) and root (the daemons run as root here). Everything lives under $SLURM_LOCAL
# (default /tmp/slurm-local); the daemons keep running until `scripts/slurm-local.sh stop`.
#
#   scripts/slurm-local.sh start        # writes slurm.conf, starts munged, slurmctld, slurmd
#   export SLURM_CONF=/tmp/slurm-local/slurm.conf
#   sinfo; sbatch …; squeue
#   scripts/slurm-local.sh stop
set -eu
root=${SLURM_LOCAL:-/tmp/slurm-local}
cpus=${SLURM_CPUS:-$(nproc)}
node=$(hostname -s)
conf=$root/slurm.conf

stop() {
    for pid in "$root/slurmd.pid" "$root/slurmctld.pid" "$root/munged.pid"; do
        if [ -f "$pid" ]; then
            kill "$(cat "$pid")" 2>/dev/null || true
            rm -f "$pid"
        fi
    done
    if [ "$(readlink /run/munge/munge.socket.2 2>/dev/null)" = "$root/munge/munge.socket.2" ]; then
        rm -f /run/munge/munge.socket.2
    fi
}

start() {
    mkdir -p "$root/state" "$root/spool" "$root/munge"
    memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
    cat > "$conf" <<CONF
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$root/state
SlurmdSpoolDir=$root/spool
SlurmctldPidFile=$root/slurmctld.pid
SlurmdPidFile=$root/slurmd.pid
SlurmctldLogFile=$root/slurmctld.log
SlurmdLogFile=$root/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$conf"
    # munged: the Debian package made /etc/munge/munge.key; our socket and pid live in $root.
    munged --force --socket="$root/munge/munge.socket.2" --pid-file="$root/munged.pid" \
        --log-file="$root/munged.log" --seed-file="$root/munge/munge.seed"
    # Slurm finds munge's socket through its default path; point that at ours.
    mkdir -p /run/munge
    ln -sf "$root/munge/munge.socket.2" /run/munge/munge.socket.2
    slurmctld -f "$conf"
    slurmd -f "$conf"
    for _ in $(seq 30); do
        if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
            sinfo
            echo "export SLURM_CONF=$conf"
            return 0
        fi
        sleep 1
    done
    echo "slurm-local: the node did not become idle; see $root/*.log" >&2
    sinfo >&2 || true
    return 1
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
