"""Display test helpers, standard library only: a PNG decoder (what
screendump writes) and a minimal RFB 3.8 client (what a VNC viewer does).
Used by the t_vga_*/t_vnc*/t_sendkey tests and by bench/b_display.py.

As a command:  display.py png FILE         prints "W H" of a PNG
               display.py vncgrab PORT OUT  saves the VNC frame as a PPM
"""
import socket, struct, sys, time, zlib


def png_read(path):
    """(width, height, pixels): pixels[y][x] = (r, g, b).  Handles what a
    PNG encoder is likely to write: 8-bit RGB/RGBA/gray, all five filters,
    no interlace."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace:
        raise ValueError(f"unsupported PNG depth {depth} interlace {interlace}")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
            elif f != 0:
                raise ValueError(f"bad filter {f}")
        prev = line
        if ctype == 0:
            rows.append([(v, v, v) for v in line])
        elif ctype == 4:
            rows.append([(line[i], line[i], line[i]) for i in range(0, stride, 2)])
        else:
            rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
    return w, h, rows


def c6(v):
    """A 6-bit DAC component as the 8-bit value a display shows."""
    return (v << 2) | (v >> 4)


class RFB:
    """RFB 3.8 client: no authentication, 32 bpp little-endian true colour
    (0x00RRGGBB), Raw encoding only.  fb is a bytearray of width*height*4
    (B, G, R, X per pixel)."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.s.settimeout(timeout)
        # As VNC viewers do: a key event must not wait for the ACK of the
        # previous message (Nagle), or latencies measure TCP, not the VMM.
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ver = self._recv(12)
        if not ver.startswith(b"RFB 003."):
            raise ValueError(f"not an RFB server: {ver!r}")
        self.s.sendall(b"RFB 003.008\n")
        n = self._recv(1)[0]
        if n == 0:
            raise ValueError("server refused: " + self._reason())
        types = self._recv(n)
        if 1 not in types:
            raise ValueError(f"no 'None' security type offered: {list(types)}")
        self.s.sendall(b"\x01")
        if struct.unpack(">I", self._recv(4))[0] != 0:
            raise ValueError("security failed: " + self._reason())
        self.s.sendall(b"\x01")                     # shared
        self.width, self.height = struct.unpack(">HH", self._recv(4))
        self._recv(16)                              # server pixel format
        self.name = self._recv(struct.unpack(">I", self._recv(4))[0])
        # SetPixelFormat: 32 bpp, depth 24, little endian, true colour,
        # max 255 each, shifts R16 G8 B0.
        self.s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1,
                                   255, 255, 255, 16, 8, 0))
        # SetEncodings: Raw, DesktopSize (the server announces mode changes).
        self.s.sendall(struct.pack(">BxHii", 2, 2, 0, -223))
        self.fb = bytearray(self.width * self.height * 4)

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("VNC server closed the connection")
            buf += chunk
        return bytes(buf)

    def _reason(self):
        return self._recv(struct.unpack(">I", self._recv(4))[0]).decode(errors="replace")

    def request(self, incremental=True):
        self.s.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0,
                                   self.width, self.height))

    def key(self, keysym, down):
        self.s.sendall(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))

    def tap(self, keysym):
        self.key(keysym, True)
        self.key(keysym, False)

    def read_message(self):
        """Reads one server message; returns ("update", rects) with the
        framebuffer applied, or ("other", type)."""
        t = self._recv(1)[0]
        if t == 0:
            n = struct.unpack(">xH", self._recv(3))[0]
            rects = []
            for _ in range(n):
                x, y, w, h, enc = struct.unpack(">HHHHi", self._recv(12))
                if enc == -223:                     # DesktopSize
                    self.width, self.height = w, h
                    self.fb = bytearray(w * h * 4)
                    rects.append((x, y, w, h, enc))
                    continue
                if enc != 0:
                    raise ValueError(f"unexpected encoding {enc}")
                data = self._recv(w * h * 4)
                for row in range(h):
                    off = ((y + row) * self.width + x) * 4
                    self.fb[off:off + w * 4] = data[row * w * 4:(row + 1) * w * 4]
                rects.append((x, y, w, h, enc))
            return "update", rects
        if t == 1:                                  # SetColourMapEntries
            _, _, n = struct.unpack(">BHH", self._recv(5))
            self._recv(6 * n)
            return "other", t
        if t == 2:                                  # Bell
            return "other", t
        if t == 3:                                  # ServerCutText
            self._recv(struct.unpack(">3xI", self._recv(7))[0])
            return "other", t
        raise ValueError(f"unknown server message {t}")

    def update(self, incremental=True):
        """Requests an update and waits for it; returns its rectangles."""
        self.request(incremental)
        while True:
            kind, what = self.read_message()
            if kind == "update":
                return what

    def rgb_rows(self):
        """The frame as rows of (r, g, b), like png_read's pixels."""
        fb, w = self.fb, self.width
        return [[(fb[o + 2], fb[o + 1], fb[o]) for o in range(y * w * 4, (y + 1) * w * 4, 4)]
                for y in range(self.height)]

    def pixel(self, x, y):
        off = (y * self.width + x) * 4
        b, g, r = self.fb[off:off + 3]
        return r, g, b

    def close(self):
        self.s.close()


def main():
    if sys.argv[1] == "png":
        w, h, _ = png_read(sys.argv[2])
        print(w, h)
    elif sys.argv[1] == "vncgrab":
        c = RFB(int(sys.argv[2]))
        c.update(False)
        with open(sys.argv[3], "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (c.width, c.height))
            for i in range(0, len(c.fb), 4):
                f.write(bytes((c.fb[i + 2], c.fb[i + 1], c.fb[i])))
        c.close()


if __name__ == "__main__":
    main()
