/* 16550A UART: driven through its ports like a guest driver would. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/chardev.h"
#include "../../vmm/devices/uart.h"

#define COM1 0x3F8
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

struct irq_probe {
    int level;
    unsigned rises;     /* 0->1 transitions, what an edge-triggered PIC sees */
    unsigned calls;
};

struct fx {
    struct logger log;
    struct iobus bus;
    struct vclock clock;
    struct irq_probe probe;
    struct uart *u;
};

static void probe_handler(void *opaque, int n, int level)
{
    struct irq_probe *p = opaque;
    (void)n;
    if (level && !p->level)
        p->rises++;
    p->level = level;
    p->calls++;
}

static void fx_init(struct fx *f, struct chardev *chr)
{
    memset(f, 0, sizeof(*f));
    f->log.level = LOG_ERROR;           /* keep guest_error lines out of test output */
    f->log.fd = STDERR_FILENO;
    iobus_init(&f->bus, "pio", &f->log);
    vclock_init(&f->clock);
    vclock_set_manual(&f->clock, 1000);
    struct irq irq = { probe_handler, &f->probe, 4 };
    f->u = uart_create(&f->bus, COM1, irq, &f->clock, chr, &f->log);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->u);
}

static void fx_fini(struct fx *f)
{
    uart_destroy(f->u);
    CU_ASSERT_PTR_NULL(iobus_find(&f->bus, COM1));
}

static void out(struct fx *f, unsigned reg, uint8_t v) { iobus_write(&f->bus, COM1 + reg, 1, v); }
static uint8_t in(struct fx *f, unsigned reg) { return (uint8_t)iobus_read(&f->bus, COM1 + reg, 1); }

static void rx(struct fx *f, const char *s) { uart_receive(f->u, (const uint8_t *)s, strlen(s)); }

static void set_divisor(struct fx *f, uint16_t d)
{
    uint8_t lcr = in(f, LCR);
    out(f, LCR, lcr | 0x80);
    out(f, DLL, d & 0xFF);
    out(f, DLM, d >> 8);
    out(f, LCR, lcr);
}

static void test_reset_state(void)
{
    struct fx f;
    fx_init(&f, NULL);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    CU_ASSERT_EQUAL(in(&f, MSR), 0xB0);     /* CTS|DSR|DCD: a terminal is attached */
    CU_ASSERT_EQUAL(in(&f, IER), 0);
    CU_ASSERT_EQUAL(in(&f, LCR), 0);
    CU_ASSERT_EQUAL(in(&f, MCR), 0);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Reserved bits of IER and MCR read back as 0. */
    out(&f, IER, 0xFF);
    CU_ASSERT_EQUAL(in(&f, IER), 0x0F);
    out(&f, MCR, 0xFF);
    CU_ASSERT_EQUAL(in(&f, MCR), 0x1F);
    /* Reset brings everything back. */
    uart_reset(f.u);
    CU_ASSERT_EQUAL(in(&f, IER), 0);
    CU_ASSERT_EQUAL(in(&f, MCR), 0);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    fx_fini(&f);
}

static void test_loopback(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    struct chardev chr;
    chardev_open_fds(&chr, -1, p[1], false, NULL);
    struct fx f;
    fx_init(&f, &chr);
    out(&f, MCR, 0x10);
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 0);  /* line input disconnected */
    out(&f, THR, 'A');
    CU_ASSERT_EQUAL(in(&f, LSR) & 0x61, 0x61);
    CU_ASSERT_EQUAL(in(&f, RBR), 'A');
    CU_ASSERT_EQUAL(in(&f, LSR) & 0x01, 0);
    out(&f, FCR, 0x01);
    const char *msg = "loop!";
    for (const char *s = msg; *s; s++)
        out(&f, THR, (uint8_t)*s);
    char got[8] = { 0 };
    for (int i = 0; i < 5 && (in(&f, LSR) & 1); i++)
        got[i] = (char)in(&f, RBR);
    CU_ASSERT_STRING_EQUAL(got, msg);
    /* Nothing reached the host side. */
    char buf[16];
    CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), -1);
    /* Out of loopback the same byte goes to the chardev. */
    out(&f, MCR, 0x00);
    out(&f, THR, 'Z');
    CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 1);
    CU_ASSERT_EQUAL(buf[0], 'Z');
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    fx_fini(&f);
    close(p[0]);
    close(p[1]);
}

static void test_loopback_msr(void)
{
    struct fx f;
    fx_init(&f, NULL);
    /* Linux's autoconfig probe: LOOP|OUT2|RTS must read back CTS|DCD. */
    out(&f, MCR, 0x1A);
    CU_ASSERT_EQUAL(in(&f, MSR) & 0xF0, 0x90);
    CU_ASSERT_EQUAL(in(&f, MSR), 0x90);     /* deltas cleared by the read */
    out(&f, MCR, 0x15);                     /* LOOP|OUT1|DTR */
    CU_ASSERT_EQUAL(in(&f, MSR), 0x60 | 0x01 | 0x02 | 0x08);
    out(&f, MCR, 0x10);                     /* RI falls: trailing edge */
    CU_ASSERT_EQUAL(in(&f, MSR), 0x00 | 0x02 | 0x04);
    out(&f, MCR, 0x14);                     /* RI rises: no TERI */
    CU_ASSERT_EQUAL(in(&f, MSR), 0x40);
    out(&f, MCR, 0x00);
    CU_ASSERT_EQUAL(in(&f, MSR) & 0xF0, 0xB0);
    fx_fini(&f);
}

static void test_iir_priorities(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, MCR, 0x08);
    out(&f, IER, 0x0F);
    /* Only THRE (ETBEI was just enabled with THR empty). */
    CU_ASSERT_EQUAL(in(&f, IIR), 0x02);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);     /* reading IIR acknowledged it */
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Modem status from a loopback round trip (IRQ gated meanwhile). */
    out(&f, MCR, 0x18);
    out(&f, MCR, 0x08);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x00);
    /* Re-arm THRE: above modem status. */
    out(&f, IER, 0x0D);
    out(&f, IER, 0x0F);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x02);
    out(&f, IER, 0x0D);
    out(&f, IER, 0x0F);
    /* Data available beats THRE. */
    rx(&f, "a");
    CU_ASSERT_EQUAL(in(&f, IIR), 0x04);
    /* Overrun: line status beats everything. */
    rx(&f, "b");
    CU_ASSERT_EQUAL(in(&f, IIR), 0x06);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x06);     /* reading IIR does not clear it */
    CU_ASSERT_EQUAL(in(&f, LSR), 0x63);     /* DR|OE|THRE|TEMT */
    CU_ASSERT_EQUAL(in(&f, LSR), 0x61);     /* OE cleared by the read */
    CU_ASSERT_EQUAL(in(&f, IIR), 0x04);
    CU_ASSERT_EQUAL(in(&f, RBR), 'b');      /* 16450 overrun overwrote 'a' */
    /* Data gone: THRE is next (not consumed by the IIR reads above). */
    CU_ASSERT_EQUAL(in(&f, IIR), 0x02);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x00);     /* then modem status */
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(in(&f, MSR) & 0x0F, 0x03);   /* DCTS|DDSR */
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Masked sources are not reported. */
    out(&f, IER, 0x00);
    rx(&f, "c");
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    out(&f, IER, 0x01);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x04);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(in(&f, RBR), 'c');
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    fx_fini(&f);
}

static void test_thre_on_etbei(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, MCR, 0x08);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    out(&f, IER, 0x02);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    CU_ASSERT_EQUAL(f.probe.rises, 1);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x02);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    /* Rewriting IER with ETBEI still set is not a new enable. */
    out(&f, IER, 0x02);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    /* Linux's UART_BUG_THRE probe: clear and set again re-raises. */
    out(&f, IER, 0x00);
    out(&f, IER, 0x02);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x02);
    /* Each THR write empties at once and gives the PIC a new edge. */
    unsigned rises = f.probe.rises;
    out(&f, THR, 'x');
    CU_ASSERT_EQUAL(f.probe.rises, rises + 1);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    out(&f, THR, 'y');
    CU_ASSERT_EQUAL(f.probe.rises, rises + 2);
    CU_ASSERT_EQUAL(in(&f, LSR) & 0x60, 0x60);
    /* Disabling ETBEI drops the line without acknowledging. */
    out(&f, IER, 0x00);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    fx_fini(&f);
}

static void test_fifo_trigger_levels(void)
{
    static const struct { uint8_t fcr; unsigned level; } t[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xC1, 14 },
    };
    struct fx f;
    fx_init(&f, NULL);
    out(&f, MCR, 0x08);
    out(&f, IER, 0x01);
    for (unsigned i = 0; i < 4; i++) {
        out(&f, FCR, t[i].fcr | 0x02);
        CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
        for (unsigned n = 0; n + 1 < t[i].level; n++)
            rx(&f, "d");
        CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
        CU_ASSERT_EQUAL(f.probe.level, 0);
        rx(&f, "e");
        CU_ASSERT_EQUAL(in(&f, IIR), 0xC4);
        CU_ASSERT_EQUAL(f.probe.level, 1);
        CU_ASSERT_EQUAL(uart_can_receive(f.u), 16 - t[i].level);
        /* One read below the trigger clears it. */
        CU_ASSERT_EQUAL(in(&f, RBR), t[i].level == 1 ? 'e' : 'd');
        CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
        CU_ASSERT_EQUAL(f.probe.level, 0);
    }
    /* Back to 16450 mode: IIR bits 6-7 clear, FIFO emptied, 1-byte holding. */
    out(&f, FCR, 0x00);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 1);
    fx_fini(&f);
}

static void test_char_timeout(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, MCR, 0x08);
    out(&f, IER, 0x01);
    out(&f, FCR, 0x81);                     /* trigger 8 */
    set_divisor(&f, 1);
    /* 4 chars * 10 bits / 115200 baud = 347222.2 ns. */
    const uint64_t to = 347223;
    rx(&f, "abc");
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    vclock_advance(&f.clock, to - 1000);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    /* A new character restarts the timer. */
    rx(&f, "d");
    vclock_advance(&f.clock, to - 1000);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    vclock_advance(&f.clock, 1000);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xCC);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    /* A received character does not clear an occurred timeout... */
    rx(&f, "e");
    CU_ASSERT_EQUAL(in(&f, IIR), 0xCC);
    /* ...a CPU read does, and restarts the timer. */
    CU_ASSERT_EQUAL(in(&f, RBR), 'a');
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    vclock_advance(&f.clock, to);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xCC);
    for (int i = 0; i < 4; i++)
        in(&f, RBR);
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    vclock_advance(&f.clock, 100 * to);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);     /* empty FIFO: no timeout */
    CU_ASSERT_EQUAL(f.probe.level, 0);

    /* Divisor 12 (9600 baud): 12 times longer. */
    set_divisor(&f, 12);
    rx(&f, "x");
    vclock_advance(&f.clock, 11 * to);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    vclock_advance(&f.clock, to + 12);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xCC);
    in(&f, RBR);

    /* Divisor 0 behaves as 1 instead of dividing by zero or firing at once. */
    set_divisor(&f, 0);
    rx(&f, "y");
    vclock_advance(&f.clock, to - 1000);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    vclock_advance(&f.clock, 1000);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xCC);
    in(&f, RBR);

    /* No character timeout in 16450 mode. */
    out(&f, FCR, 0x00);
    rx(&f, "z");
    vclock_advance(&f.clock, 100 * to);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x04);
    fx_fini(&f);
}

static void test_overrun(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, FCR, 0x01);
    char s[18];
    for (int i = 0; i < 17; i++)
        s[i] = (char)('A' + i);
    s[17] = 0;
    rx(&f, s);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x63);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x61);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(in(&f, RBR), 'A' + i);  /* the 17th is lost */
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    /* Reading an empty RBR repeats the last byte, no underflow. */
    CU_ASSERT_EQUAL(in(&f, RBR), 'P');
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    fx_fini(&f);
}

static void test_dlab(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    struct chardev chr;
    chardev_open_fds(&chr, -1, p[1], false, NULL);
    struct fx f;
    fx_init(&f, &chr);
    out(&f, IER, 0x05);
    out(&f, LCR, 0x83);
    CU_ASSERT_EQUAL(in(&f, LCR), 0x83);
    out(&f, DLL, 0x34);
    out(&f, DLM, 0x12);
    CU_ASSERT_EQUAL(in(&f, DLL), 0x34);
    CU_ASSERT_EQUAL(in(&f, DLM), 0x12);
    out(&f, LCR, 0x03);
    CU_ASSERT_EQUAL(in(&f, IER), 0x05);     /* IER untouched by DLM writes */
    char buf[4];
    CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), -1);   /* DLL write was no THR write */
    out(&f, THR, 'k');
    CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 1);
    out(&f, IER, 0x00);
    out(&f, LCR, 0x80);
    CU_ASSERT_EQUAL(in(&f, DLL), 0x34);
    CU_ASSERT_EQUAL(in(&f, DLM), 0x12);
    /* The divisor survives a reset (datasheet), the LCR does not. */
    uart_reset(f.u);
    CU_ASSERT_EQUAL(in(&f, LCR), 0);
    out(&f, LCR, 0x80);
    CU_ASSERT_EQUAL(in(&f, DLM), 0x12);
    fx_fini(&f);
    close(p[0]);
    close(p[1]);
}

static void test_out2_gating(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, IER, 0x02);                     /* THRE pending */
    CU_ASSERT_EQUAL(f.probe.level, 0);
    out(&f, MCR, 0x08);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    out(&f, MCR, 0x03);                     /* DTR|RTS without OUT2 */
    CU_ASSERT_EQUAL(f.probe.level, 0);
    out(&f, MCR, 0x0B);
    CU_ASSERT_EQUAL(f.probe.level, 1);
    out(&f, MCR, 0x18);                     /* loopback forces OUT2 inactive */
    CU_ASSERT_EQUAL(f.probe.level, 0);
    CU_ASSERT_EQUAL(in(&f, IIR) & 0x0F, 0x02);  /* still pending internally */
    out(&f, MCR, 0x08);
    CU_ASSERT_EQUAL(f.probe.level, 0);      /* acknowledged by that IIR read */
    fx_fini(&f);
}

static void test_scratch(void)
{
    struct fx f;
    fx_init(&f, NULL);
    for (unsigned v = 0; v < 256; v += 0x55) {
        out(&f, SCR, (uint8_t)v);
        CU_ASSERT_EQUAL(in(&f, SCR), v);
    }
    out(&f, SCR, 0xA5);
    out(&f, LCR, 0x80);                     /* DLAB does not hide SCR */
    CU_ASSERT_EQUAL(in(&f, SCR), 0xA5);
    fx_fini(&f);
}

static void test_output_to_file(void)
{
    char path[] = "/tmp/minus1-uart-XXXXXX";
    int tmp = mkstemp(path);
    CU_ASSERT_FATAL(tmp >= 0);
    close(tmp);
    char spec[64], err[128];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct chardev chr;
    CU_ASSERT_FATAL(chardev_open(&chr, spec, NULL, err, sizeof(err)) == 0);
    struct fx f;
    fx_init(&f, &chr);
    const char *msg = "Booting minus1\r\n";
    for (const char *s = msg; *s; s++)
        out(&f, THR, (uint8_t)*s);
    /* Visible before close: nothing is buffered. */
    char buf[64] = { 0 };
    int fd = open(path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(msg));
    CU_ASSERT_STRING_EQUAL(buf, msg);
    close(fd);
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 1);  /* a file has no input */
    fx_fini(&f);
    chardev_close(&chr);
    unlink(path);
}

static void test_receive_flow_control(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    struct chardev chr;
    chardev_open_fds(&chr, p[0], -1, false, NULL);
    struct fx f;
    fx_init(&f, &chr);
    out(&f, FCR, 0x01);
    char data[40];
    for (int i = 0; i < 40; i++)
        data[i] = (char)(' ' + i);
    CU_ASSERT_EQUAL(write(p[1], data, 40), 40);
    chardev_read_ready(&chr);
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 0);
    CU_ASSERT_EQUAL(chr.in_len, 24);            /* the rest waits in the chardev */
    CU_ASSERT_EQUAL(in(&f, LSR) & 0x02, 0);     /* and no overrun */
    CU_ASSERT_EQUAL(in(&f, RBR), data[0]);
    CU_ASSERT_EQUAL(chr.in_len, 23);            /* the read pulled one more in */
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 0);
    for (int i = 1; i < 40; i++) {
        CU_ASSERT_EQUAL_FATAL(in(&f, LSR) & 1, 1);
        CU_ASSERT_EQUAL(in(&f, RBR), data[i]);
    }
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    /* Loopback holds host input back; leaving it lets it through. */
    out(&f, MCR, 0x10);
    CU_ASSERT_EQUAL(write(p[1], "hi", 2), 2);
    chardev_read_ready(&chr);
    CU_ASSERT_EQUAL(chr.in_len, 2);
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    out(&f, MCR, 0x00);
    CU_ASSERT_EQUAL(chr.in_len, 0);
    CU_ASSERT_EQUAL(in(&f, RBR), 'h');
    CU_ASSERT_EQUAL(in(&f, RBR), 'i');
    /* 16450 mode: one byte at a time, still nothing lost. */
    out(&f, FCR, 0x00);
    CU_ASSERT_EQUAL(write(p[1], "xyz", 3), 3);
    chardev_read_ready(&chr);
    CU_ASSERT_EQUAL(chr.in_len, 2);
    CU_ASSERT_EQUAL(in(&f, RBR), 'x');
    CU_ASSERT_EQUAL(in(&f, RBR), 'y');
    CU_ASSERT_EQUAL(in(&f, RBR), 'z');
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    fx_fini(&f);
    CU_ASSERT_PTR_NULL(chr.can_receive);        /* destroy detached the device */
    close(p[0]);
    close(p[1]);
}

static void test_hostile_readonly_regs(void)
{
    struct fx f;
    fx_init(&f, NULL);
    out(&f, LSR, 0xFF);
    out(&f, MSR, 0xFF);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    CU_ASSERT_EQUAL(in(&f, MSR), 0xB0);
    out(&f, IER, 0x0F);
    out(&f, MCR, 0x08);
    in(&f, IIR);                            /* ack THRE */
    out(&f, LSR, 0x1E);                     /* cannot fake a line status error */
    out(&f, MSR, 0x0F);                     /* nor a modem status change */
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    /* Wide accesses are split into byte accesses by the bus. */
    out(&f, SCR, 0x42);
    CU_ASSERT_EQUAL(iobus_read(&f.bus, COM1 + 6, 2), 0x42B0);
    CU_ASSERT_EQUAL(iobus_read(&f.bus, COM1 + 8, 1), 0xFF);     /* outside the UART */
    fx_fini(&f);
}

static void test_hostile_fifo_reset(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    struct chardev chr;
    chardev_open_fds(&chr, -1, p[1], false, NULL);
    struct fx f;
    fx_init(&f, &chr);
    out(&f, MCR, 0x08);
    out(&f, IER, 0x01);
    out(&f, FCR, 0x41);
    set_divisor(&f, 1);
    rx(&f, "0123456789");
    CU_ASSERT_EQUAL(in(&f, RBR), '0');
    CU_ASSERT_EQUAL(in(&f, RBR), '1');
    CU_ASSERT_EQUAL(f.probe.level, 1);
    out(&f, FCR, 0x43);                     /* clear RX mid-stream */
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    CU_ASSERT_EQUAL(f.probe.level, 0);
    vclock_advance(&f.clock, 10000000);     /* no stale timeout fires */
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    rx(&f, "zz");
    CU_ASSERT_EQUAL(in(&f, RBR), 'z');
    /* TX reset between THR writes loses nothing already sent. */
    out(&f, THR, 'a');
    out(&f, FCR, 0x45);
    out(&f, THR, 'b');
    char buf[4];
    CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 2);
    CU_ASSERT_EQUAL(memcmp(buf, "ab", 2), 0);
    /* FCR writes without bit 0 disable the FIFO and ignore the rest. */
    rx(&f, "q");
    out(&f, FCR, 0xC6);
    CU_ASSERT_EQUAL(in(&f, LSR) & 1, 0);
    CU_ASSERT_EQUAL(in(&f, IIR), 0x01);
    out(&f, FCR, 0x01);
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC1);
    rx(&f, "r");                            /* trigger was reset to 1 */
    CU_ASSERT_EQUAL(in(&f, IIR), 0xC4);
    fx_fini(&f);
    close(p[0]);
    close(p[1]);
}

static void test_hostile_flood(void)
{
    enum { N = 10000 };
    static uint8_t data[N];
    for (int i = 0; i < N; i++)
        data[i] = (uint8_t)(i * 7 + i / 256);
    /* Straight into the device: 16 kept, the rest is overrun. */
    struct fx f;
    fx_init(&f, NULL);
    out(&f, FCR, 0x01);
    uart_receive(f.u, data, N);
    CU_ASSERT_EQUAL(uart_can_receive(f.u), 0);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x63);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(in(&f, RBR), data[i]);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);
    fx_fini(&f);

    /* Through a chardev whose host keeps sending while the guest does not
     * read: everything is bounded, and nothing is lost once it reads. */
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_NONBLOCK) == 0);
    CU_ASSERT_EQUAL(write(p[1], data, N), N);
    struct chardev chr;
    chardev_open_fds(&chr, p[0], -1, false, NULL);
    fx_init(&f, &chr);
    out(&f, FCR, 0x01);
    for (int i = 0; i < 10; i++)
        chardev_read_ready(&chr);
    CU_ASSERT_EQUAL(chr.in_len, CHARDEV_INBUF);
    CU_ASSERT_FALSE(chardev_wants_input(&chr));
    int got = 0;
    bool order_ok = true;
    for (int round = 0; round < 2 * N && got < N; round++) {
        chardev_read_ready(&chr);
        while ((in(&f, LSR) & 1) && got < N) {
            if (in(&f, RBR) != data[got])
                order_ok = false;
            got++;
        }
    }
    CU_ASSERT_EQUAL(got, N);
    CU_ASSERT_TRUE(order_ok);
    CU_ASSERT_EQUAL(in(&f, LSR), 0x60);     /* never an overrun */
    fx_fini(&f);
    close(p[0]);
    close(p[1]);
}

void suite_uart(void)
{
    CU_pSuite s = CU_add_suite("uart", NULL, NULL);
    CU_add_test(s, "reset state and reserved bits", test_reset_state);
    CU_add_test(s, "loopback round trip", test_loopback);
    CU_add_test(s, "loopback MSR mapping and deltas", test_loopback_msr);
    CU_add_test(s, "IIR priorities and clearing", test_iir_priorities);
    CU_add_test(s, "THRE interrupt when ETBEI is enabled", test_thre_on_etbei);
    CU_add_test(s, "FIFO trigger levels", test_fifo_trigger_levels);
    CU_add_test(s, "character timeout from the divisor", test_char_timeout);
    CU_add_test(s, "overrun", test_overrun);
    CU_add_test(s, "DLAB divisor access", test_dlab);
    CU_add_test(s, "OUT2 gates the IRQ line", test_out2_gating);
    CU_add_test(s, "scratch register", test_scratch);
    CU_add_test(s, "output lands in a file chardev", test_output_to_file);
    CU_add_test(s, "receive flow control", test_receive_flow_control);
    CU_add_test(s, "hostile: writes to LSR/MSR, wide accesses", test_hostile_readonly_regs);
    CU_add_test(s, "hostile: FIFO reset mid-stream", test_hostile_fifo_reset);
    CU_add_test(s, "hostile: 10000 bytes without reads", test_hostile_flood);
}
