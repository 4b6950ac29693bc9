"""What the image builds share: Debian's kernel (downloaded once, never installed), its modules
with their dependencies, and a busybox initramfs written as a newc cpio without root.

Python's standard library only, so any python3 runs the builds. Host tools: apt-get, dpkg-deb
and busybox-static (the initramfs's only program).
"""
import glob
import gzip
import hashlib
import io
import os
import shutil
import stat
import subprocess
import tempfile

KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX = "/bin/busybox"
MIB = 1024 * 1024


def default_cache():
    """~/.cache/stackbox: every build keeps the kernels it downloads in its kernels/ folder."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache_home, "stackbox")


class BuildError(Exception):
    """The build cannot go on; the message says what to install or fix."""


def run(*command, cwd=None, stdin=None, env=None):
    try:
        return subprocess.run(command, cwd=cwd, input=stdin, env=env, check=True,
                              capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise BuildError(f"{command[0]} is missing: install the Debian packages named in "
                         f"the build's docstring") from None
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"{' '.join(command)} failed ({exc.returncode}): "
                         f"{(exc.stderr or exc.stdout).strip()}") from None


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- the kernel -----------------------------------------------------------------------------

def kernel_package():
    """The versioned package linux-image-amd64 points at, and its version."""
    show = run("apt-cache", "show", "--no-all-versions", KERNEL_PACKAGE)
    for line in show.splitlines():
        # Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
        if line.startswith("Depends:") and "(=" in line:
            name, version = line.split(":", 1)[1].split(",")[0].split("(=")
            return name.strip(), version.strip(" )")
    raise BuildError(f"apt knows no {KERNEL_PACKAGE}: run `apt-get update` first")


def unpacked_kernel(cache, log):
    """A folder with boot/ and lib/modules/ of Debian's kernel package, downloaded once."""
    try:
        package, version = kernel_package()
    except BuildError:
        cached = sorted(glob.glob(os.path.join(cache, "linux-image-*", "root")))
        if not cached:
            raise
        log(f"apt cannot name the kernel package; using the cached {cached[-1]}")
        return cached[-1]
    folder = os.path.join(cache, f"{package}_{version}")
    root = os.path.join(folder, "root")
    if os.path.isdir(root):
        return root
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        log(f"downloading {package} {version}")
        run("apt-get", "download", "-q", f"{package}={version}", cwd=scratch)
        deb = glob.glob(os.path.join(scratch, "*.deb"))[0]
        unpacked = os.path.join(scratch, "root")
        run("dpkg-deb", "-x", deb, unpacked)
        # Keep what a guest build reads: boot/ (the kernel) and lib/modules/ (drivers).
        shutil.rmtree(os.path.join(unpacked, "usr"), ignore_errors=True)
        try:
            os.replace(unpacked, root)
        except OSError:
            if not os.path.isdir(root):  # else a concurrent build unpacked it first
                raise
    return root


def kernel_files(root):
    """(vmlinuz path, kernel release, its lib/modules/<release> folder) under root."""
    kernels = sorted(glob.glob(os.path.join(root, "boot", "vmlinuz-*")))
    if not kernels:
        raise BuildError(f"no boot/vmlinuz-* under {root}")
    vmlinuz = kernels[-1]
    release = os.path.basename(vmlinuz)[len("vmlinuz-"):]
    modules = os.path.join(root, "lib", "modules", release)
    if not os.path.isdir(modules):
        raise BuildError(f"no lib/modules/{release} under {root} for {vmlinuz}")
    return vmlinuz, release, modules


def module_name(path):
    return os.path.basename(path)[:-len(".ko")].replace("-", "_")


def module_depends(path):
    # .modinfo holds NUL-separated key=value strings; depends= lists what must load first.
    with open(path, "rb") as stream:
        data = stream.read()
    start = data.find(b"\0depends=")
    if start < 0:
        return []
    end = data.index(b"\0", start + 1)
    names = data[start + len(b"\0depends="):end].decode()
    return [name.replace("-", "_") for name in names.split(",") if name]


def modules_in_load_order(modules_dir, wanted):
    """The .ko files for `wanted` and everything they depend on, dependencies first."""
    index = {module_name(path): path
             for path in glob.glob(os.path.join(modules_dir, "kernel", "**", "*.ko"),
                                   recursive=True)}
    builtin_file = os.path.join(modules_dir, "modules.builtin")
    builtin = set()
    if os.path.exists(builtin_file):
        with open(builtin_file) as stream:
            builtin = {module_name(line.strip()) for line in stream if line.strip()}
    order, seen = [], set()

    def visit(name):
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in index:
            raise BuildError(f"kernel module {name} is neither built in nor in {modules_dir}")
        for dependency in module_depends(index[name]):
            visit(dependency)
        order.append((name, index[name]))

    for name in wanted:
        visit(name)
    return order


# ---- the initramfs --------------------------------------------------------------------------

class Cpio:
    """A newc cpio archive, the initramfs format; written here so device nodes need no root."""

    def __init__(self):
        self.stream = io.BytesIO()
        self.inode = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        encoded = name.encode() + b"\0"
        fields = [self.inode, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data),
                  0, 0, rdev[0], rdev[1], len(encoded), 0]
        self.inode += 1
        self.stream.write(b"070701" + b"".join(b"%08x" % field for field in fields))
        self.stream.write(encoded + b"\0" * (-(110 + len(encoded)) % 4))
        self.stream.write(data + b"\0" * (-len(data) % 4))

    def directory(self, name, mode=0o755):
        self._entry(name, stat.S_IFDIR | mode)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.stream.getvalue()


BASE_FOLDERS = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp",
                "mnt", "lib", "lib/modules", "root", "var", "etc"]


def initramfs(rootfs, modules, executables, extra_files=None):
    """The gzipped cpio: busybox, the files under `rootfs` (those named in `executables` get
    mode 755), `extra_files` ({path in the image: path on the host}), the modules and
    etc/modules listing them in load order for /init to insmod."""
    if not os.path.exists(BUSYBOX) or _dynamic(BUSYBOX):
        raise BuildError(f"{BUSYBOX} must be the static busybox: install busybox-static")
    archive = Cpio()
    for folder in BASE_FOLDERS:
        archive.directory(folder, 0o700 if folder == "root" else 0o755)
    # The kernel opens /dev/console for /init before devtmpfs is mounted.
    archive.char_device("dev/console", 5, 1)
    archive.char_device("dev/null", 1, 3, 0o666)
    archive.char_device("dev/ttyS0", 4, 64)
    with open(BUSYBOX, "rb") as stream:
        archive.file("bin/busybox", stream.read(), 0o755)
    archive.symlink("bin/sh", "busybox")
    def add(path, source):
        with open(source, "rb") as stream:
            archive.file(path, stream.read(), 0o755 if path in executables else 0o644)

    for base, folders, names in sorted(os.walk(rootfs)):
        relative = os.path.relpath(base, rootfs)
        for folder in sorted(folders):
            path = os.path.normpath(os.path.join(relative, folder))
            if path not in BASE_FOLDERS:
                archive.directory(path)
        for name in sorted(names):
            add(os.path.normpath(os.path.join(relative, name)), os.path.join(base, name))
    for path, source in sorted((extra_files or {}).items()):
        add(path, source)
    for name, path in modules:
        with open(path, "rb") as stream:
            archive.file(f"lib/modules/{name}.ko", stream.read())
    archive.file("etc/modules", "".join(f"{name}\n" for name, _ in modules).encode())
    return gzip.compress(archive.finish(), compresslevel=6, mtime=0)


def _dynamic(path):
    # A dynamic executable names its loader (ld-linux) in PT_INTERP near the start.
    with open(path, "rb") as stream:
        return b"ld-linux" in stream.read(4096)
