"""Drive a qemu-system-x86_64 process from Python: start it under the qtest
accelerator (or any other), talk QMP, and read fw_cfg files through the
qtest protocol, the way QEMU's own qtests do.

    with Qemu(binary, ["-M", "q35", "-m", "1G"]) as vm:
        vm.qmp("query-status")
        e820 = vm.e820()            # [(address, length, type), ...]
        blob = vm.fw_cfg_file("etc/acpi/tables")

Qemu.run(binary, args) starts a configuration that is expected to fail
and returns (exit status or -signal, stderr).
"""

import base64
import json
import os
import socket
import struct
import subprocess
import tempfile

FW_CFG_PORT = 0x510
FW_CFG_FILE_DIR = 0x19
E820_RAM, E820_RESERVED, E820_SOFT_RESERVED = 1, 2, 0xEFFFFFFF


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (for -incoming)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class QemuError(Exception):
    """QEMU did not start, or a QMP command failed."""


class _LineIO:
    """Buffered line reads from a socket (one recv() per byte would make
    a b64read of the ACPI tables slow); writes go out at once."""

    def __init__(self, sock):
        self.sock, self.reader = sock, sock.makefile("rb")

    def write(self, data):
        self.sock.sendall(data)
        return len(data)

    def readline(self):
        return self.reader.readline()


class Qemu:
    def __init__(self, binary, args, accel="qtest", timeout=60, env=None, qtest=False):
        """QTEST: open the qtest protocol (fw_cfg reads) under another
        accelerator too (always open with the qtest accelerator)"""
        self.binary, self.args, self.accel = binary, list(args), accel
        self.qtest = bool(qtest) or accel == "qtest"
        self.timeout, self.env = timeout, env
        self.proc = None
        self.stderr = ""

    # -- life cycle -------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        # a second start would leave the first QEMU running, unowned
        # (compare-pciwin did, until 'with' after start())
        if self.proc is not None:
            raise QemuError("QEMU already started: stop() it first")
        self.dir = tempfile.TemporaryDirectory(prefix="qemulib-")
        qmp_path = os.path.join(self.dir.name, "qmp.sock")
        qt_path = os.path.join(self.dir.name, "qtest.sock")
        listeners = []
        for path in (qmp_path, qt_path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            s.settimeout(self.timeout)
            listeners.append(s)
        cmd = [self.binary, "-accel", self.accel, "-display", "none",
               "-nodefaults", "-chardev", f"socket,path={qmp_path},id=qmp0",
               "-mon", "chardev=qmp0,mode=control"]
        if self.qtest:
            cmd += ["-qtest", f"unix:{qt_path}", "-qtest-log", "/dev/null"]
        cmd += self.args
        self.cmd = cmd
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errfile, env=self.env)
        try:
            if self.qtest:
                self.qt, _ = listeners[1].accept()
                self.qt.settimeout(self.timeout)
                self.qtf = _LineIO(self.qt)
            self.qmp_sock, _ = listeners[0].accept()
        except (socket.timeout, OSError) as e:
            self.stop()
            raise QemuError(f"QEMU did not start: {self.stderr.strip() or e}")
        finally:
            for s in listeners:
                s.close()
        self.qmp_sock.settimeout(self.timeout)
        self.qmpf = _LineIO(self.qmp_sock)
        self._qmp_read()                       # greeting
        self.qmp("qmp_capabilities")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.qmp("quit")
            except Exception:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errfile.seek(0)
        self.stderr = self.errfile.read().decode(errors="replace")
        self.errfile.close()
        self.returncode = self.proc.returncode
        self.proc = None
        self.dir.cleanup()

    @staticmethod
    def run(binary, args, accel="qtest", timeout=60):
        """Run a configuration that should not start.  QEMU gets -S and a
        -kernel file that does not exist, so a configuration that is
        accepted still stops, with that error, instead of running."""
        cmd = [binary, "-accel", accel, "-display", "none", "-nodefaults",
               "-S", "-kernel", "/nonexistent/qemulib-kernel"] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        return p.returncode, p.stderr.decode(errors="replace")

    # -- QMP --------------------------------------------------------------
    def _qmp_read(self):
        while True:
            line = self.qmpf.readline()
            if not line:
                raise QemuError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def qmp_raw(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.qmpf.write(json.dumps(msg).encode() + b"\n")
        return self._qmp_read()

    def qmp(self, command, **arguments):
        r = self.qmp_raw(command, **arguments)
        if "error" in r:
            raise QemuError(f"{command}: {r['error']['desc']}")
        return r["return"]

    def hmp(self, command):
        return self.qmp("human-monitor-command", **{"command-line": command})

    # -- qtest and fw_cfg -------------------------------------------------
    def _qtest(self, line):
        self.qtf.write(line.encode() + b"\n")
        while True:
            reply = self.qtf.readline().decode().split()
            if not reply:
                raise QemuError("qtest connection closed")
            if reply[0] == "IRQ":
                continue
            if reply[0] != "OK":
                raise QemuError(f"qtest {line!r}: {' '.join(reply)}")
            return reply[1:]

    def fw_cfg_read(self, key, length):
        self._qtest(f"outw 0x{FW_CFG_PORT:x} 0x{key:x}")
        return bytes(int(self._qtest(f"inb 0x{FW_CFG_PORT + 1:x}")[0], 16)
                     for _ in range(length))

    def fw_cfg_dma_read(self, key, length, scratch=0x100000):
        """Read with the fw_cfg DMA interface into guest RAM at @scratch
        and fetch it with one qtest b64read: much faster than inb."""
        control = (key << 16) | 0x08 | 0x02          # SELECT | READ
        desc = struct.pack(">IIQ", control, length, scratch + 16)
        self._qtest(f"write 0x{scratch:x} {len(desc)} 0x{desc.hex()}")
        # the DMA address registers take big-endian values
        for port, half in ((4, scratch >> 32), (8, scratch & 0xffffffff)):
            be = int.from_bytes(half.to_bytes(4, "big"), "little")
            self._qtest(f"outl 0x{FW_CFG_PORT + port:x} 0x{be:x}")
        done = int(self._qtest(f"read 0x{scratch:x} 4")[0], 16)
        if done:
            raise QemuError(f"fw_cfg DMA read of key 0x{key:x} failed")
        if not length:
            return b""
        data = base64.b64decode(self._qtest(f"b64read 0x{scratch + 16:x} "
                                            f"{length}")[0])
        assert len(data) == length
        return data

    def fw_cfg_files(self):
        """{name: (select, size)} from the fw_cfg file directory"""
        count = struct.unpack(">I", self.fw_cfg_read(FW_CFG_FILE_DIR, 4))[0]
        raw = self.fw_cfg_read(FW_CFG_FILE_DIR, 4 + 64 * count)[4:]
        files = {}
        for i in range(count):
            size, select, _, name = struct.unpack(">IHH56s",
                                                  raw[64 * i:64 * i + 64])
            files[name.split(b"\0")[0].decode()] = (select, size)
        return files

    def fw_cfg_file(self, name):
        select, size = self.fw_cfg_files()[name]
        if size > 4096 and self.dma:
            return self.fw_cfg_dma_read(select, size)
        return self.fw_cfg_read(select, size)

    @property
    def dma(self):
        """fw_cfg DMA is there (machine types since 2.5; not isapc)"""
        if not hasattr(self, "_dma"):
            self._qtest(f"outw 0x{FW_CFG_PORT:x} 0x1")     # FW_CFG_ID
            ident = int(self._qtest(f"inb 0x{FW_CFG_PORT + 1:x}")[0], 16)
            self._dma = bool(ident & 2)
        return self._dma

    def e820(self):
        blob = self.fw_cfg_file("etc/e820")
        return [struct.unpack("<QQI", blob[i:i + 20])
                for i in range(0, len(blob), 20)]
