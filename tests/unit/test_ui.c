/* Display front ends: key tables, sendkey, PNG screendumps, the monitor
 * commands and the VNC server's socket. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../vmm/devices/i8042.h"
#include "../../vmm/devices/vga/vga.h"
#include "../../vmm/monitor.h"
#include "../../vmm/ui/display.h"
#include "../../vmm/ui/keymap.h"
#include "../../vmm/ui/png.h"
#include "../../vmm/ui/vnc.h"

static void test_keysym_map(void)
{
    /* Set 2 make codes from the PS/2 keyboard tables. */
    CU_ASSERT_EQUAL(keymap_from_keysym('a'), 0x1C);
    CU_ASSERT_EQUAL(keymap_from_keysym('A'), 0x1C);     /* same key, shifted */
    CU_ASSERT_EQUAL(keymap_from_keysym('!'), 0x16);     /* shift-1 */
    CU_ASSERT_EQUAL(keymap_from_keysym(' '), 0x29);
    CU_ASSERT_EQUAL(keymap_from_keysym(0xff0d), 0x5A);  /* Return */
    CU_ASSERT_EQUAL(keymap_from_keysym(0xff52), KEY_EXT | 0x75);  /* Up */
    CU_ASSERT_EQUAL(keymap_from_keysym(0xffc9), 0x07);  /* F12 */
    CU_ASSERT_EQUAL(keymap_from_keysym(0x12345), KEY_NONE);
    uint8_t seq[KEYMAP_MAX_SEQ];
    CU_ASSERT_EQUAL(keymap_sequence(KEY_EXT | 0x75, false, seq), 3);
    CU_ASSERT(seq[0] == 0xE0 && seq[1] == 0xF0 && seq[2] == 0x75);
    CU_ASSERT_EQUAL(keymap_sequence(0x1C, false, seq), 2);
    CU_ASSERT(seq[0] == 0xF0 && seq[1] == 0x1C);
    CU_ASSERT_EQUAL(keymap_sequence(KEY_PAUSE, true, seq), 8);
    CU_ASSERT_EQUAL(seq[0], 0xE1);
    CU_ASSERT_EQUAL(keymap_sequence(KEY_PAUSE, false, seq), 0);
    CU_ASSERT_EQUAL(keymap_sequence(KEY_NONE, true, seq), 0);
}

static void test_sendkey_names(void)
{
    uint8_t out[64];
    char bad[32];
    static const uint8_t ret[] = { 0x5A, 0xF0, 0x5A };
    CU_ASSERT_EQUAL(keymap_sendkey("ret", out, sizeof(out), bad, sizeof(bad)), 3);
    CU_ASSERT_EQUAL(memcmp(out, ret, 3), 0);
    /* Press in order, release in reverse. */
    static const uint8_t cad[] = { 0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x11,
                                   0xF0, 0x14 };
    CU_ASSERT_EQUAL(keymap_sendkey("ctrl-alt-delete", out, sizeof(out), bad, sizeof(bad)),
                    (int)sizeof(cad));
    CU_ASSERT_EQUAL(memcmp(out, cad, sizeof(cad)), 0);
    static const uint8_t shift_a[] = { 0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12 };
    CU_ASSERT_EQUAL(keymap_sendkey("shift-a", out, sizeof(out), bad, sizeof(bad)), 6);
    CU_ASSERT_EQUAL(memcmp(out, shift_a, 6), 0);
    CU_ASSERT_EQUAL(keymap_from_name("f1"), 0x05);
    CU_ASSERT_EQUAL(keymap_from_name("f10"), 0x09);
    CU_ASSERT_EQUAL(keymap_from_name("esc"), 0x76);
    CU_ASSERT_EQUAL(keymap_from_name("tab"), 0x0D);
    CU_ASSERT_EQUAL(keymap_from_name("spc"), 0x29);
    CU_ASSERT_EQUAL(keymap_from_name("0"), 0x45);
    CU_ASSERT_EQUAL(keymap_from_name("z"), 0x1A);
    CU_ASSERT_EQUAL(keymap_from_name("left"), KEY_EXT | 0x6B);
    CU_ASSERT_EQUAL(keymap_from_name("down"), KEY_EXT | 0x72);
    /* Bad input. */
    CU_ASSERT_EQUAL(keymap_sendkey("ctrl-bogus", out, sizeof(out), bad, sizeof(bad)), -1);
    CU_ASSERT_STRING_EQUAL(bad, "bogus");
    CU_ASSERT_EQUAL(keymap_sendkey("", out, sizeof(out), bad, sizeof(bad)), -1);
    CU_ASSERT_EQUAL(keymap_sendkey("a-", out, sizeof(out), bad, sizeof(bad)), -1);
    CU_ASSERT_EQUAL(keymap_sendkey("a--b", out, sizeof(out), bad, sizeof(bad)), -1);
    CU_ASSERT_EQUAL(keymap_sendkey("a-b-c-d-e-f-g-h-i", out, sizeof(out), bad, sizeof(bad)),
                    -1);
    CU_ASSERT_EQUAL(keymap_sendkey("ctrl-alt-delete", out, 4, bad, sizeof(bad)), -1);
}

static void test_png_roundtrip(void)
{
    char path[] = "/tmp/minus1-png-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    uint32_t img[7 * 5];
    for (unsigned i = 0; i < 35; i++)
        img[i] = (i * 0x050709u) & 0xFFFFFF;
    img[3 * 7 + 4] = 0xABCDEF;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(png_write_xrgb(path, img, 7, 5, err, sizeof(err)), 0);
    uint32_t *back;
    int w, h;
    CU_ASSERT_EQUAL_FATAL(png_read_xrgb(path, &back, &w, &h, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(w, 7);
    CU_ASSERT_EQUAL(h, 5);
    CU_ASSERT_EQUAL(back[3 * 7 + 4], 0xABCDEF);
    CU_ASSERT_EQUAL(memcmp(back, img, sizeof(img)), 0);
    free(back);
    /* Not a PNG / nowhere to write. */
    FILE *f = fopen(path, "w");
    fputs("not a png", f);
    fclose(f);
    CU_ASSERT_EQUAL(png_read_xrgb(path, &back, &w, &h, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NULL(back);
    unlink(path);
    CU_ASSERT_EQUAL(png_write_xrgb("/nonexistent/dir/x.png", img, 7, 5, err, sizeof(err)), -1);
}

struct ui_fx {
    struct logger log;
    struct iobus pio, mmio;
    struct vga *v;
    struct i8042 *k;
    struct monitor *m;
    struct vga_monitor *vm;
};

static void noirq(void *opaque, int n, int level)
{
    (void)opaque;
    (void)n;
    (void)level;
}

static void ui_init(struct ui_fx *f)
{
    char err[128];
    memset(f, 0, sizeof(*f));
    f->log.level = LOG_ERROR;
    f->log.fd = STDERR_FILENO;
    iobus_init(&f->pio, "pio", &f->log);
    iobus_init(&f->mmio, "mmio", &f->log);
    f->v = vga_create(NULL, &f->pio, &f->mmio, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->v);
    struct irq i1 = { noirq, NULL, 1 }, i12 = { noirq, NULL, 12 };
    f->k = i8042_create(&f->pio, i1, i12, NULL, &f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->k);
    f->m = monitor_create(NULL, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->m);
    f->vm = vga_monitor_register(f->m, f->v, f->k);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->vm);
}

static void ui_fini(struct ui_fx *f)
{
    monitor_destroy(f->m);
    vga_monitor_free(f->vm);
    i8042_destroy(f->k);
    vga_destroy(f->v);
}

static void vbe(struct ui_fx *f, unsigned idx, uint16_t v)
{
    iobus_write(&f->pio, 0x1CE, 2, idx);
    iobus_write(&f->pio, 0x1CF, 2, v);
}

static void test_monitor_commands(void)
{
    struct ui_fx f;
    char out[8192];
    ui_init(&f);
    /* Text screen: 80x25 with "OK" at the top (registers as mode 3). */
    static const struct { unsigned port, idx, val; } regs[] = {
        { 0x3C4, 4, 0x02 }, { 0x3CE, 5, 0x10 }, { 0x3CE, 6, 0x0E }, { 0x3C4, 2, 0x03 },
        { 0x3D4, 0x01, 0x4F }, { 0x3D4, 0x07, 0x1F }, { 0x3D4, 0x09, 0x4F },
        { 0x3D4, 0x12, 0x8F }, { 0x3D4, 0x13, 0x28 }, { 0x3D4, 0x17, 0xA3 },
        { 0x3D4, 0x18, 0xFF },
    };
    iobus_write(&f.pio, 0x3C2, 1, 0x67);
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        iobus_write(&f.pio, regs[i].port, 1, regs[i].idx);
        iobus_write(&f.pio, regs[i].port + 1, 1, regs[i].val);
    }
    iobus_write(&f.mmio, 0xB8000, 1, 'O');
    iobus_write(&f.mmio, 0xB8002, 1, 'K');
    CU_ASSERT_EQUAL(monitor_execute(f.m, "vga-text", out, sizeof(out)), 0);
    CU_ASSERT_EQUAL(strncmp(out, "OK\n", 3), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok\n"));
    /* screendump of a VBE frame, read back. */
    vbe(&f, 1, 64);
    vbe(&f, 2, 32);
    vbe(&f, 3, 32);
    vbe(&f, 4, 0x41);
    CU_ASSERT_EQUAL(monitor_execute(f.m, "vga-text", out, sizeof(out)), -1);
    size_t size;
    uint8_t *vram = vga_vram(f.v, &size);
    vram[(5 * 64 + 6) * 4 + 0] = 0x33;
    vram[(5 * 64 + 6) * 4 + 1] = 0x22;
    vram[(5 * 64 + 6) * 4 + 2] = 0x11;
    char path[] = "/tmp/minus1-dump-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "screendump %s", path);
    CU_ASSERT_EQUAL(monitor_execute(f.m, cmd, out, sizeof(out)), 0);
    uint32_t *img;
    int w, h;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(png_read_xrgb(path, &img, &w, &h, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(w, 64);
    CU_ASSERT_EQUAL(h, 32);
    CU_ASSERT_EQUAL(img[5 * 64 + 6], 0x112233);
    CU_ASSERT_EQUAL(img[0], 0);
    free(img);
    unlink(path);
    /* The screendump's render did not swallow the change for VNC. */
    struct vga_update u;
    vga_render(f.v, &u);
    CU_ASSERT(u.resized || (u.y0 <= 5 && u.y1 > 5));
    CU_ASSERT_EQUAL(monitor_execute(f.m, "screendump", out, sizeof(out)), -1);
    CU_ASSERT_EQUAL(monitor_execute(f.m, "info vga", out, sizeof(out)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "VBE 64x32x32"));
    /* sendkey: bytes reach the keyboard (set 1 after translation, which
     * the command byte turns on as a BIOS does). */
    iobus_write(&f.pio, 0x64, 1, 0x60);
    iobus_write(&f.pio, 0x60, 1, 0x45);
    CU_ASSERT_EQUAL(monitor_execute(f.m, "sendkey ret", out, sizeof(out)), 0);
    CU_ASSERT(iobus_read(&f.pio, 0x64, 1) & 1);        /* output buffer full */
    CU_ASSERT_EQUAL(iobus_read(&f.pio, 0x60, 1), 0x1C); /* set 1 make of Enter */
    CU_ASSERT_EQUAL(monitor_execute(f.m, "sendkey ctrl-nokey", out, sizeof(out)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "nokey"));
    ui_fini(&f);
}

static void test_vnc_listens_on_loopback(void)
{
    struct ui_fx f;
    char err[128];
    ui_init(&f);
    /* Display 97 to keep clear of a developer's own VNC servers. */
    struct vnc *s = vnc_create(NULL, f.v, f.k, NULL, 97, NULL, &f.log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(vnc_port(s), 5997);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5997) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    /* Let the server accept and greet: "RFB 003.008\n". */
    char banner[13] = { 0 };
    for (int i = 0; i < 50 && vnc_client_count(s) == 0; i++)
        vnc_refresh(s);
    CU_ASSERT_EQUAL(vnc_client_count(s), 1);
    CU_ASSERT_EQUAL(recv(c, banner, 12, MSG_WAITALL), 12);
    CU_ASSERT_EQUAL(strncmp(banner, "RFB 003.", 8), 0);
    /* A client that sends garbage and vanishes does not hurt. */
    (void)!write(c, "garbage!garbage!", 16);
    close(c);
    for (int i = 0; i < 50 && vnc_client_count(s) > 0; i++)
        vnc_refresh(s);
    CU_ASSERT_EQUAL(vnc_client_count(s), 0);
    /* A bad listen address and a display out of range are refused. */
    CU_ASSERT_PTR_NULL(vnc_create(NULL, f.v, f.k, "nonsense", 1, NULL, &f.log, err,
                                  sizeof(err)));
    CU_ASSERT_PTR_NULL(vnc_create(NULL, f.v, f.k, NULL, -1, NULL, &f.log, err, sizeof(err)));
    vnc_destroy(s);
    ui_fini(&f);
}

/* Reads n bytes from the client socket while the server runs. */
static bool recv_pumped(struct vnc *s, int c, void *buf, size_t n)
{
    size_t got = 0;
    for (int i = 0; i < 5000 && got < n; i++) {
        vnc_refresh(s);
        ssize_t r = recv(c, (char *)buf + got, n - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0)
            return false;
        else
            usleep(200);
    }
    return got == n;
}

/* A VNC server on display 96 showing a 64x32x32 VBE frame of 0x112233,
 * and a client through the RFB 3.8 handshake (no auth, Raw only). */
static struct vnc *vnc_with_client(struct ui_fx *f, int *client)
{
    char err[128];
    vbe(f, 1, 64);
    vbe(f, 2, 32);
    vbe(f, 3, 32);
    vbe(f, 4, 0x41);
    size_t size;
    uint8_t *vram = vga_vram(f->v, &size);
    for (unsigned i = 0; i < 64 * 32; i++) {
        vram[i * 4 + 0] = 0x33;
        vram[i * 4 + 1] = 0x22;
        vram[i * 4 + 2] = 0x11;
    }
    struct vnc *s = vnc_create(NULL, f->v, f->k, NULL, 96, NULL, &f->log, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;    /* no Nagle: a small message must not wait for an ACK */
    CU_ASSERT_EQUAL(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5996) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    uint8_t b[64];
    CU_ASSERT_FATAL(recv_pumped(s, c, b, 12));
    CU_ASSERT_EQUAL(send(c, "RFB 003.008\n", 12, 0), 12);
    CU_ASSERT_FATAL(recv_pumped(s, c, b, 2));           /* one type: None */
    CU_ASSERT(b[0] == 1 && b[1] == 1);
    CU_ASSERT_EQUAL(send(c, "\x01", 1, 0), 1);
    CU_ASSERT_FATAL(recv_pumped(s, c, b, 4));           /* SecurityResult OK */
    CU_ASSERT_EQUAL(b[3], 0);
    CU_ASSERT_EQUAL(send(c, "\x01", 1, 0), 1);          /* ClientInit: shared */
    CU_ASSERT_FATAL(recv_pumped(s, c, b, 24));
    CU_ASSERT(b[0] == 0 && b[1] == 64 && b[2] == 0 && b[3] == 32);
    CU_ASSERT_EQUAL(b[4], 32);                          /* bits per pixel */
    uint32_t namelen = (uint32_t)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    CU_ASSERT_FATAL(namelen < sizeof(b) && recv_pumped(s, c, b, namelen));
    static const uint8_t raw_only[] = { 2, 0, 0, 1, 0, 0, 0, 0 };
    CU_ASSERT_EQUAL(send(c, raw_only, sizeof(raw_only), 0), (ssize_t)sizeof(raw_only));
    *client = c;
    return s;
}

/* FramebufferUpdateRequest for the whole 64x32 frame. */
static void request_update(int c, bool incremental)
{
    uint8_t m[] = { 3, incremental, 0, 0, 0, 0, 0, 64, 0, 32 };
    CU_ASSERT_EQUAL(send(c, m, sizeof(m), 0), (ssize_t)sizeof(m));
}

/* A client without cursor pseudo-encodings gets exactly the guest's
 * pixels: the server must not paint a pointer of its own into the frame
 * (libvncserver draws a default X cursor at (0,0) unless told otherwise). */
static void test_vnc_frame_is_the_guests(void)
{
    struct ui_fx f;
    int c;
    ui_init(&f);
    struct vnc *s = vnc_with_client(&f, &c);
    request_update(c, false);
    uint8_t b[16];
    CU_ASSERT_FATAL(recv_pumped(s, c, b, 16));          /* header + one rectangle */
    CU_ASSERT(b[0] == 0 && b[3] == 1);
    CU_ASSERT(b[8] == 0 && b[9] == 64 && b[10] == 0 && b[11] == 32);
    uint32_t *px = malloc(64 * 32 * 4);
    CU_ASSERT_FATAL(recv_pumped(s, c, px, 64 * 32 * 4));
    unsigned wrong = 0;
    for (unsigned i = 0; i < 64 * 32; i++)
        wrong += (px[i] & 0xFFFFFF) != 0x112233;
    CU_ASSERT_EQUAL(wrong, 0);
    free(px);
    close(c);
    vnc_destroy(s);
    ui_fini(&f);
}

/* A change goes out in the refresh that finds it: the refresh timer
 * already paces updates, so libvncserver's own deferral (5 ms by default,
 * checked only at the next refresh, 30 ms later) must not hold it back. */
static void test_vnc_update_in_one_refresh(void)
{
    struct ui_fx f;
    int c;
    ui_init(&f);
    struct vnc *s = vnc_with_client(&f, &c);
    request_update(c, false);
    uint32_t *px = malloc(16 + 64 * 32 * 4);
    CU_ASSERT_FATAL(recv_pumped(s, c, px, 16 + 64 * 32 * 4));
    /* Nothing changed: an incremental request stays unanswered. */
    request_update(c, true);
    for (int i = 0; i < 20; i++) {
        vnc_refresh(s);
        usleep(1000);
    }
    uint8_t b[16];
    CU_ASSERT_EQUAL(recv(c, b, sizeof(b), MSG_DONTWAIT), -1);
    /* One pixel changes: one refresh sends it. */
    size_t size;
    uint8_t *vram = vga_vram(f.v, &size);
    vram[(7 * 64 + 9) * 4] = 0x44;
    usleep(10000);              /* longer than any deferral */
    vnc_refresh(s);
    usleep(10000);
    CU_ASSERT_EQUAL(recv(c, b, 16, MSG_DONTWAIT), 16);
    CU_ASSERT(b[0] == 0 && b[3] == 1);
    CU_ASSERT(b[4] == 0 && b[5] <= 9 && b[6] == 0 && b[7] <= 7);   /* covers (9,7) */
    free(px);
    close(c);
    vnc_destroy(s);
    ui_fini(&f);
}

/* Everything a client sent is handled in the refresh that finds it:
 * libvncserver reads one message per client per rfbProcessEvents(), and a
 * refresh every 30 ms would otherwise lag further behind with each key or
 * pointer event (three messages took three refreshes). */
static void test_vnc_input_in_one_refresh(void)
{
    struct ui_fx f;
    int c;
    ui_init(&f);
    struct vnc *s = vnc_with_client(&f, &c);
    /* Set 1 through the controller's translation, as a BIOS sets it. */
    iobus_write(&f.pio, 0x64, 1, 0x60);
    iobus_write(&f.pio, 0x60, 1, 0x45);
    while (iobus_read(&f.pio, 0x64, 1) & 1)
        iobus_read(&f.pio, 0x60, 1);
    for (int i = 0; i < 10; i++)
        vnc_refresh(s);
    static const uint8_t keys[] = {
        4, 1, 0, 0, 0, 0, 0, 'a',       /* a down */
        4, 0, 0, 0, 0, 0, 0, 'a',       /* a up */
        4, 1, 0, 0, 0, 0, 0, 'b',       /* b down */
        4, 0, 0, 0, 0, 0, 0, 'b',       /* b up */
        5, 0, 0, 10, 0, 10,             /* pointer event */
        4, 1, 0, 0, 0, 0, 0, 'c',       /* c down */
    };
    CU_ASSERT_EQUAL(send(c, keys, sizeof(keys), 0), (ssize_t)sizeof(keys));
    usleep(20000);              /* all of it in the server's socket buffer */
    vnc_refresh(s);
    static const uint8_t want[] = { 0x1E, 0x9E, 0x30, 0xB0, 0x2E };
    uint8_t got[16];
    unsigned n = 0;
    while (n < sizeof(got) && (iobus_read(&f.pio, 0x64, 1) & 1)) {
        bool aux = iobus_read(&f.pio, 0x64, 1) & 0x20;
        uint8_t v = (uint8_t)iobus_read(&f.pio, 0x60, 1);
        if (!aux)
            got[n++] = v;
    }
    CU_ASSERT_EQUAL(n, sizeof(want));
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof(want)), 0);
    close(c);
    vnc_destroy(s);
    ui_fini(&f);
}

void suite_ui(void)
{
    CU_pSuite s = CU_add_suite("ui", NULL, NULL);
    CU_add_test(s, "keysym map", test_keysym_map);
    CU_add_test(s, "sendkey names", test_sendkey_names);
    CU_add_test(s, "PNG round trip", test_png_roundtrip);
    CU_add_test(s, "monitor commands", test_monitor_commands);
    CU_add_test(s, "VNC listens on loopback", test_vnc_listens_on_loopback);
    CU_add_test(s, "VNC frame is the guest's", test_vnc_frame_is_the_guests);
    CU_add_test(s, "VNC update in one refresh", test_vnc_update_in_one_refresh);
    CU_add_test(s, "VNC input in one refresh", test_vnc_input_in_one_refresh);
}
