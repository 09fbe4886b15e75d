# Boots systemd as PID 1 of a box: private namespaces, root on an overlay of /.
#
# Stage `enter` runs on the machine: it joins the box's cgroups, then unshares
# the namespaces and runs stage `inside` as the new PID 1. Stage `inside`
# builds the root, masks units that would touch the machine, pivots into it
# and becomes systemd.
#
# Input, from the environment:
#   TESTHOST_NAME         host name of the box
#   TESTHOST_STATE        directory holding upper/, work/ and root/ of the overlay
#   TESTHOST_CGROUPS      the box's cgroup directories on the machine (one a line)
#   TESTHOST_HIERARCHIES  the machine's cgroup mounts, "dir fstype options" a line
#   TESTHOST_BINDS        directories shown inside, read-only, at the same path
#   TESTHOST_PROGRAMS     programs put inside, "bind|copy INSIDE SOURCE" a line
#   TESTHOST_MASK         units masked inside (space separated)
set -eu

enter() {
    printf '%s\n' "$TESTHOST_CGROUPS" | while read -r cgroup; do
        [ -z "$cgroup" ] || echo $$ >"$cgroup/cgroup.procs"
    done
    exec unshare --pid --fork --kill-child --mount --net --uts --ipc --cgroup \
        --propagation private sh "$0" inside
}

mount_dev() {
    mount -t tmpfs -o mode=755,nosuid,strictatime tmpfs "$root/dev"
    for node in null zero full random urandom tty; do
        touch "$root/dev/$node"
        mount --bind "/dev/$node" "$root/dev/$node"
    done
    # systemd writes its status to the console; keep it in the box's log.
    touch "$root/dev/console"
    mount --bind "$TESTHOST_STATE/console.log" "$root/dev/console"
    mkdir "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
    ln -s pts/ptmx "$root/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
    mount -t mqueue mqueue "$root/dev/mqueue"
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
}

# Read-only /proc/sys and /sys, as systemd-nspawn does: services that tune the
# kernel (systemd-sysctl, udev) then see they are in a container and skip.
mount_kernel_filesystems() {
    mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
    mount --bind "$root/proc/sys" "$root/proc/sys"
    mount -o remount,bind,ro "$root/proc/sys"
    mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
    # Mounted after unshare --cgroup, each hierarchy's root is the box's cgroup.
    case $TESTHOST_HIERARCHIES in
    '. '*) ;;
    *) mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs "$root/sys/fs/cgroup" ;;
    esac
    printf '%s\n' "$TESTHOST_HIERARCHIES" | while read -r dir fstype options; do
        [ -n "$dir" ] || continue
        mkdir -p "$root/sys/fs/cgroup/$dir"
        mount -t "$fstype" -o "$options" "$fstype" "$root/sys/fs/cgroup/$dir"
    done
}

# Programs at a path of the box's, in directories of mode 0755: bound
# read-only, or copied when not every user may run the file itself.
install_programs() {
    printf '%s\n' "$TESTHOST_PROGRAMS" | while read -r how inside source; do
        [ -n "$how" ] || continue
        (umask 022 && mkdir -p "$root${inside%/*}")
        if [ "$how" = copy ]; then
            cp "$source" "$root$inside"
            chmod 0755 "$root$inside"
        else
            touch "$root$inside"
            mount --bind "$source" "$root$inside"
            mount -o remount,bind,ro "$root$inside"
        fi
    done
}

mask_units() {
    units=$TESTHOST_MASK
    # Whatever the machine itself has enabled (servers, timers): not the box's business.
    for wanted in /etc/systemd/system/*.wants/*; do
        case $wanted in
        *.target | *'*'*) ;;
        *) units="$units ${wanted##*/}" ;;
        esac
    done
    mkdir -p "$root/etc/systemd/system"
    for unit in $units; do
        ln -sfn /dev/null "$root/etc/systemd/system/$unit"
    done
}

inside() {
    root=$TESTHOST_STATE/root
    mount -t overlay overlay \
        -o "lowerdir=/,upperdir=$TESTHOST_STATE/upper,workdir=$TESTHOST_STATE/work" "$root"
    mount_dev
    mount_kernel_filesystems
    mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
    printf '%s\n' "$TESTHOST_BINDS" | while read -r dir; do
        [ -n "$dir" ] || continue
        mkdir -p "$root$dir"
        mount --bind "$dir" "$root$dir"
        mount -o remount,bind,ro "$root$dir"
    done
    install_programs
    mask_units
    echo "$TESTHOST_NAME" >"$root/etc/hostname"
    # Its own machine ID, as a machine of its own: journalctl inside reads
    # only the box's journal. Kept across reboots with the rest of /etc.
    if [ ! -e "$TESTHOST_STATE/upper/etc/machine-id" ]; then
        tr -d - </proc/sys/kernel/random/uuid >"$root/etc/machine-id"
    fi
    hostname "$TESTHOST_NAME"

    cd "$root"
    mkdir -p .oldroot
    pivot_root . .oldroot
    cd /
    umount -l /.oldroot
    rmdir /.oldroot
    # Shared within the box, as systemd makes / on a machine of its own (it
    # leaves that to a container's manager): what a service's mount namespace
    # mounts for the manager, such as /run/credentials/UNIT, reaches it.
    # The box's peer groups are new: nothing propagates to or from the machine.
    mount --make-rshared /
    exec env -i container=nodeunits-testhost /usr/lib/systemd/systemd --system --unit=multi-user.target
}

"$1"
