#!/bin/sh
# Builds, once, the cloud image the libvirt tests boot: a normal bootable disk (MBR partition
# table, extlinux with syslinux's MBR code, one ext4 root) holding Debian 12 from the apt mirror
# with openssh-server and cloud-init: the same shape as Debian's genericcloud image, so the
# driver's real path (download, qcow2 overlay, NoCloud seed, DHCP, SSH) runs against it.
# cloud-guest-utils grows the root partition to the disk size, as on the public images.
#
# usage: build-image.sh            prints the path of the cached qcow2 image
# Cache: $MACHINE_TEST_CACHE (default /var/cache/machine-tests)/libvirt/. Needs root.
#
# Facts of this machine the recipe follows: debootstrap fails with cloud-init in --include, so
# cloud-init and the kernel are installed with apt in the chroot afterwards; loop devices get no
# partition nodes, so the filesystem is made on a loop device set at the partition's offset.
set -eu

# Bump when the recipe changes: the cached image is named after it.
VERSION=4
MIRROR=${MACHINE_TEST_MIRROR:-http://deb.debian.org/debian}
cache=${MACHINE_TEST_CACHE:-/var/cache/machine-tests}/libvirt
image=$cache/debian12-cloud-v$VERSION.qcow2
SIZE_MIB=2048
PART_START=2048 # sectors: the partition starts at 1 MiB

log() { echo "build-image: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "needs root"; exit 77; }
for tool in debootstrap sfdisk losetup mkfs.ext4 extlinux qemu-img; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing: run scripts/install-deps"; exit 1; }
done
mbr=/usr/lib/EXTLINUX/mbr.bin
[ -f "$mbr" ] || mbr=/usr/lib/syslinux/mbr/mbr.bin

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if [ -f "$image" ]; then
    echo "$image"
    exit 0
fi

work=$(mktemp -d /tmp/libvirt-image-XXXXXX)
root=$work/root
mnt=$work/mnt
loop=
cleanup() {
    set +e
    for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys" "$mnt"; do
        mountpoint -q "$m" && umount -l "$m"
    done
    [ -n "$loop" ] && losetup -d "$loop"
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "debootstrap (minbase) from $MIRROR"
debootstrap --variant=minbase \
    --include=systemd-sysv,udev,kmod,dbus,ifupdown,isc-dhcp-client,openssh-server,sudo,iproute2,procps,e2fsprogs \
    bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
}

log "kernel and cloud-init (apt in the chroot, no recommends)"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod +x "$root/usr/sbin/policy-rc.d"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    linux-image-cloud-amd64 cloud-init cloud-guest-utils >"$work/apt.log" 2>&1 || {
    tail -30 "$work/apt.log" >&2
    exit 1
}
rm -f "$root/usr/sbin/policy-rc.d"
kver=$(ls "$root/lib/modules" | head -1)

log "configuring (cloud-init NoCloud, serial console, no host keys baked in)"
cat >"$root/etc/cloud/cloud.cfg.d/90-machine-tests.cfg" <<'EOF'
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
EOF
echo localhost >"$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/machine-id"
# cloud-init makes the host keys at first boot, of the types user-data asks for.
rm -f "$root/etc/ssh/ssh_host_"*
chroot "$root" apt-get clean
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/log/"*.log

log "disk: MBR partition table, ext4 at 1 MiB, extlinux"
raw=$work/disk.raw
truncate -s ${SIZE_MIB}M "$raw"
echo "$PART_START,,83,*" | sfdisk --quiet --label dos "$raw"
part_bytes=$(((SIZE_MIB * 1024 * 1024) - PART_START * 512))
loop=$(losetup --find --show --offset $((PART_START * 512)) --sizelimit "$part_bytes" "$raw")
# extlinux 6.04 reads neither 64-bit ext4 nor metadata checksums.
mkfs.ext4 -q -L root -O ^64bit,^metadata_csum "$loop"
uuid=$(blkid -s UUID -o value "$loop")
mkdir -p "$mnt"
mount "$loop" "$mnt"
for m in "$root/dev/pts" "$root/dev" "$root/proc" "$root/sys"; do umount "$m"; done
cp -a "$root/." "$mnt/"
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" >"$mnt/etc/fstab"
mkdir -p "$mnt/boot/extlinux"
cat >"$mnt/boot/extlinux/extlinux.conf" <<EOF
DEFAULT debian
TIMEOUT 0
PROMPT 0
LABEL debian
    KERNEL /boot/vmlinuz-$kver
    INITRD /boot/initrd.img-$kver
    APPEND root=UUID=$uuid ro console=tty0 console=ttyS0,115200
EOF
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
umount "$mnt"
losetup -d "$loop"
loop=
dd if="$mbr" of="$raw" bs=440 count=1 conv=notrunc status=none

log "converting to qcow2"
qemu-img convert -f raw -O qcow2 "$raw" "$work/image.qcow2"
mv "$work/image.qcow2" "$image.tmp"
sync "$image.tmp"
mv "$image.tmp" "$image"
# Images of earlier recipes are of no use any more.
for old in "$cache"/debian12-cloud-v*.qcow2; do
    [ "$old" = "$image" ] || rm -f "$old"
done
log "done: $image ($(du -h "$image" | cut -f1))"
echo "$image"
