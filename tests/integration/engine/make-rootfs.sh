#!/bin/sh
# Makes a busybox root filesystem offline from Debian's busybox-static:
#   make-rootfs.sh DIR [EXTRA-BINARY...]
# DIR gets bin/busybox with a link per applet, /etc/passwd and /etc/group with root, a user
# "app" (1000) and a group "staff" listing it, and the usual empty folders. Extra binaries are
# copied into DIR/bin. Exits 77 when busybox-static is missing (scripts/install-deps has it).
set -eu
dir=$1
shift
bb=/bin/busybox
if ! [ -x "$bb" ] || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    echo "make-rootfs: a static /bin/busybox is needed (apt-get install busybox-static)" >&2
    exit 77
fi
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/home/app" "$dir/proc" "$dir/sys" \
    "$dir/dev" "$dir/var/log" "$dir/usr/bin" "$dir/usr/sbin" "$dir/sbin"
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:App:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$dir/etc/group" <<'G'
root:x:0:
tty:x:5:
staff:x:50:app
app:x:1000:
nogroup:x:65534:
G
chown 1000:1000 "$dir/home/app"
for extra in "$@"; do
    cp "$extra" "$dir/bin/"
done
