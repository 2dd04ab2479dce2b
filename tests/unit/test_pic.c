/* 8259A pair + ELCR, driven through its ports the way a guest does. */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <string.h>

#include "../../vmm/devices/pic.h"

struct fix {
    struct iobus bus;
    struct logger lg;
    struct pic *p;
    int cb_calls;
    int level;
};

static void intr_cb(void *opaque, int level)
{
    struct fix *f = opaque;
    f->cb_calls++;
    f->level = level;
}

static void setup(struct fix *f)
{
    memset(f, 0, sizeof(*f));
    f->lg = (struct logger){ LOG_ERROR, 2 };
    iobus_init(&f->bus, "pio", &f->lg);
    f->p = pic_create(&f->bus, &f->lg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->p);
    pic_set_intr_callback(f->p, intr_cb, f);
    f->cb_calls = 0;
}

static void teardown(struct fix *f)
{
    pic_destroy(f->p);
}

static void outb(struct fix *f, unsigned port, unsigned v)
{
    iobus_write(&f->bus, port, 1, v);
}

static unsigned inb(struct fix *f, unsigned port)
{
    return (unsigned)iobus_read(&f->bus, port, 1);
}

static void set(struct fix *f, int n, int level)
{
    struct irq line = pic_irq_line(f->p, n);
    irq_set(&line, level);
}

static void pulse(struct fix *f, int n)
{
    struct irq line = pic_irq_line(f->p, n);
    irq_pulse(&line);
}

/* The usual PC programming (as Linux's init_8259A): cascade on IR2. */
static void init_pc(struct fix *f, unsigned mbase, unsigned sbase, unsigned micw4,
                    unsigned sicw4)
{
    outb(f, 0x21, 0xff);
    outb(f, 0xa1, 0xff);
    outb(f, 0x20, 0x11);
    outb(f, 0x21, mbase);
    outb(f, 0x21, 0x04);
    outb(f, 0x21, micw4);
    outb(f, 0xa0, 0x11);
    outb(f, 0xa1, sbase);
    outb(f, 0xa1, 0x02);
    outb(f, 0xa1, sicw4);
    outb(f, 0x21, 0x00);
    outb(f, 0xa1, 0x00);
}

static unsigned read_isr(struct fix *f, unsigned cmd)
{
    outb(f, cmd, 0x0b);
    unsigned v = inb(f, cmd);
    outb(f, cmd, 0x0a);
    return v;
}

static void eoi_master(struct fix *f) { outb(f, 0x20, 0x20); }
static void eoi_both(struct fix *f) { outb(f, 0xa0, 0x20); outb(f, 0x20, 0x20); }

static void test_reset_state(void)
{
    struct fix f;
    setup(&f);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0);
    CU_ASSERT_EQUAL(inb(&f, 0xa1), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x4d0), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x4d1), 0);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    pulse(&f, 0);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.cb_calls, 1);
    CU_ASSERT_EQUAL(f.level, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x08);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x01);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.level, 0);
    eoi_master(&f);
    pulse(&f, 8);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x70);
    pulse(&f, 3);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));       /* IR2 in service ranks higher */
    eoi_both(&f);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    /* pic_reset drops in-service state, ELCR and the output. */
    outb(&f, 0x4d0, 0x20);
    pic_reset(f.p);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.level, 0);
    CU_ASSERT_EQUAL(inb(&f, 0x4d0), 0);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    teardown(&f);
}

static void test_bios_and_linux_init(void)
{
    struct fix f;
    setup(&f);
    /* SeaBIOS pic_setup(). */
    outb(&f, 0x20, 0x11); outb(&f, 0x21, 0x08); outb(&f, 0x21, 0x04); outb(&f, 0x21, 0x01);
    outb(&f, 0xa0, 0x11); outb(&f, 0xa1, 0x70); outb(&f, 0xa1, 0x02); outb(&f, 0xa1, 0x01);
    outb(&f, 0x21, 0xfb);
    outb(&f, 0xa1, 0xff);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0xfb);
    CU_ASSERT_EQUAL(inb(&f, 0xa1), 0xff);
    set(&f, 1, 1);               /* masked: visible in IRR only */
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x02);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* Linux: mask all, re-init at 0x30/0x38. ICW1 resets the edge sense
     * and IMR; the still-high line 1 must go low and high again. */
    outb(&f, 0x21, 0xff); outb(&f, 0xa1, 0xff);
    outb(&f, 0x20, 0x11);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0);  /* IMR cleared by ICW1 */
    outb(&f, 0x21, 0x30); outb(&f, 0x21, 0x04); outb(&f, 0x21, 0x01);
    outb(&f, 0xa0, 0x11); outb(&f, 0xa1, 0x38); outb(&f, 0xa1, 0x02); outb(&f, 0xa1, 0x01);
    outb(&f, 0x21, 0xf8); outb(&f, 0xa1, 0xff);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0xf8);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    set(&f, 1, 1);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    set(&f, 1, 0);
    set(&f, 1, 1);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x31);
    eoi_master(&f);
    outb(&f, 0xa1, 0x00);
    pulse(&f, 14);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x3e);
    /* ICW2's low three bits are ignored in 8086 mode. */
    init_pc(&f, 0x27, 0xaf, 0x01, 0x01);
    pulse(&f, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    eoi_master(&f);
    pulse(&f, 9);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0xa9);
    teardown(&f);
}

static void test_priority_and_nesting(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    pulse(&f, 5); pulse(&f, 3); pulse(&f, 1);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x2a);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x21);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));   /* lower levels wait for EOI */
    eoi_master(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    eoi_master(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* A slave input ranks at IR2: above IR3. */
    pulse(&f, 3); pulse(&f, 12);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2c);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x04);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0x10);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    eoi_both(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    /* Nesting: IR1 pre-empts IR3 in service, IR6 waits. */
    pulse(&f, 6);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    pulse(&f, 1);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x21);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x0a);
    eoi_master(&f);              /* non-specific: the highest, IR1 */
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x08);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0x20, 0x63);        /* specific EOI for IR3 */
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x26);
    /* Specific EOI of a level not in service changes nothing. */
    outb(&f, 0x20, 0x65);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x40);
    outb(&f, 0x20, 0x40);        /* OCW2 no-op */
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x40);
    teardown(&f);
}

static void test_masking_and_callback(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    f.cb_calls = 0;
    outb(&f, 0x21, 0x08);
    pulse(&f, 3);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x08);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.cb_calls, 0);
    outb(&f, 0x21, 0x00);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.cb_calls, 1);
    CU_ASSERT_EQUAL(f.level, 1);
    pulse(&f, 4);                /* output already high: no new call */
    CU_ASSERT_EQUAL(f.cb_calls, 1);
    outb(&f, 0x21, 0x18);
    CU_ASSERT_EQUAL(f.cb_calls, 2);
    CU_ASSERT_EQUAL(f.level, 0);
    outb(&f, 0x21, 0x10);
    CU_ASSERT_EQUAL(f.cb_calls, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    CU_ASSERT_EQUAL(f.cb_calls, 4);
    CU_ASSERT_EQUAL(f.level, 0);
    eoi_master(&f);
    /* Master IMR bit 2 hides the whole slave; slave IMR one input. */
    outb(&f, 0x21, 0x14);        /* IR4 is still requesting: keep it masked */
    pulse(&f, 10);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x14);         /* master IRR2 latched */
    outb(&f, 0xa1, 0x04);
    CU_ASSERT_EQUAL(inb(&f, 0xa0), 0x04);
    /* Unmasking the master now finds the slave's request masked: the
     * latched IR2 edge resolves into a spurious IRQ15. */
    outb(&f, 0x21, 0x10);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2f);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0xa1, 0x00);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2a);
    /* 16-bit read splits into IRR (0x20) and IMR (0x21). */
    outb(&f, 0x21, 0x90);
    pulse(&f, 7);
    CU_ASSERT_EQUAL(iobus_read(&f.bus, 0x20, 2), 0x9090);
    teardown(&f);
}

static void test_auto_eoi(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x03, 0x03);
    pulse(&f, 5); pulse(&f, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));   /* no EOI needed */
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* Two slave requests with auto-EOI on both chips: both arrive. */
    pulse(&f, 11); pulse(&f, 9);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x29);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2b);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0);
    /* Rotate in auto-EOI: the level served becomes the lowest. */
    outb(&f, 0x20, 0x80);
    pulse(&f, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    pulse(&f, 1); pulse(&f, 4);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);   /* 4 now highest */
    /* After IR4 rotated, order is 5,6,7,0,1,...: IR1 next. */
    outb(&f, 0x20, 0x00);        /* rotate in auto-EOI clear */
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x21);
    pulse(&f, 0); pulse(&f, 6);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x26);   /* lowest stays 4 */
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x20);
    teardown(&f);
}

static void test_rotation(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    pulse(&f, 0);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x20);
    outb(&f, 0x20, 0xa0);        /* rotate on non-specific EOI */
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    pulse(&f, 0); pulse(&f, 7);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x27);   /* IR0 is lowest now */
    eoi_master(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x20);
    eoi_master(&f);
    /* Set priority: IR4 lowest, so IR5 beats IR3. */
    outb(&f, 0x20, 0xc4);
    pulse(&f, 3); pulse(&f, 5);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));       /* IR3 ranks below IR5 now */
    eoi_master(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    teardown(&f);
}

static void test_rotate_specific(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    outb(&f, 0x20, 0xc4);        /* order 5,6,7,0,1,2,3,4 */
    pulse(&f, 3); pulse(&f, 5);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));       /* IR3 ranks below IR5 */
    outb(&f, 0x20, 0xe5);        /* rotate on specific EOI for IR5 */
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    pulse(&f, 6);                /* order now 6,7,0,...,5 */
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x26);
    outb(&f, 0x20, 0x66);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    teardown(&f);
}

static void test_special_mask_mode(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    pulse(&f, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    pulse(&f, 5);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0x21, 0x08);        /* the handler masks its own level */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0x20, 0x68);        /* set special mask mode */
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x28);
    outb(&f, 0x20, 0x65);
    pulse(&f, 4);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));        /* lower than IR3 too */
    outb(&f, 0x20, 0x48);        /* reset special mask mode */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));       /* IR3 in service blocks */
    outb(&f, 0x20, 0x08);        /* OCW3 without ESMM keeps the mode */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0x20, 0x63);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    teardown(&f);
}

static void test_poll_and_readback(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    outb(&f, 0x20, 0x0c);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x00);         /* nothing pending */
    pulse(&f, 6);
    pulse(&f, 4);
    outb(&f, 0x20, 0x0c);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x84);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x40);         /* back to IRR read */
    outb(&f, 0x20, 0x0b);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x10);         /* poll set ISR */
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x10);         /* selection persists */
    outb(&f, 0x20, 0x08);                         /* RR=0: no change */
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x10);
    outb(&f, 0x20, 0x0a);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x40);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0x00);         /* port 1 is IMR */
    eoi_master(&f);
    /* Poll through port 1 and on the cascade: master reports IR2. */
    outb(&f, 0x20, 0x0c);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0x86);
    eoi_master(&f);
    pulse(&f, 9);
    outb(&f, 0x20, 0x0c);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x82);
    outb(&f, 0xa0, 0x0c);
    CU_ASSERT_EQUAL(inb(&f, 0xa0), 0x81);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x04);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0x02);
    teardown(&f);
}

static void test_elcr_level(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    outb(&f, 0x4d0, 0xff);
    outb(&f, 0x4d1, 0xff);
    CU_ASSERT_EQUAL(inb(&f, 0x4d0), 0xf8);        /* IRQ0,1,2 fixed edge */
    CU_ASSERT_EQUAL(inb(&f, 0x4d1), 0xde);        /* IRQ8,13 fixed edge */
    CU_ASSERT_EQUAL(iobus_read(&f.bus, 0x4d0, 2), 0xdef8);
    outb(&f, 0x4d0, 0x20);
    outb(&f, 0x4d1, 0x04);
    CU_ASSERT_EQUAL(inb(&f, 0x4d0), 0x20);
    /* IRQ5 level: pending while high, even after EOI. */
    set(&f, 5, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x20);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    eoi_master(&f);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x25);
    eoi_master(&f);
    f.cb_calls = 0;
    set(&f, 5, 0);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.cb_calls, 1);
    CU_ASSERT_EQUAL(f.level, 0);
    /* IRQ10 level on the slave: re-requests through the cascade. */
    set(&f, 10, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2a);
    eoi_both(&f);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2a);
    set(&f, 10, 0);              /* dropped while in service */
    eoi_both(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* IRQ0 cannot be made level: it stays edge. */
    set(&f, 0, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x20);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* Switching an input that is high to level raises its request. */
    set(&f, 6, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x26);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    outb(&f, 0x4d0, 0x60);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    teardown(&f);
}

static void test_icw1_ltim(void)
{
    struct fix f;
    setup(&f);
    outb(&f, 0x20, 0x19);        /* LTIM: all master inputs level */
    outb(&f, 0x21, 0x20); outb(&f, 0x21, 0x04); outb(&f, 0x21, 0x01);
    set(&f, 3, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    eoi_master(&f);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    set(&f, 3, 0);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    pulse(&f, 4);                /* a level input forgets a pulse */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    teardown(&f);
}

static void test_edge_retrigger(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    set(&f, 4, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    set(&f, 4, 1);               /* still high: no new edge */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    set(&f, 4, 0);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    set(&f, 4, 1);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    eoi_master(&f);
    set(&f, 4, 0);
    /* A pulse is latched; two pulses before the ack give one request. */
    outb(&f, 0x21, 0x10);
    pulse(&f, 4);
    pulse(&f, 4);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x10);
    outb(&f, 0x21, 0x00);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    eoi_master(&f);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* An edge while in service is remembered for after the EOI. */
    pulse(&f, 4);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    pulse(&f, 4);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    eoi_master(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x24);
    teardown(&f);
}

static void test_spurious(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    outb(&f, 0x4d0, 0x20);
    outb(&f, 0x4d1, 0x04);
    /* IRQ7: the level request went away before INTA. */
    set(&f, 5, 1);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    set(&f, 5, 0);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x27);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0);
    /* ...or was masked before INTA (the edge stays in IRR). */
    pulse(&f, 3);
    outb(&f, 0x21, 0x08);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x27);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    CU_ASSERT_EQUAL(inb(&f, 0x20), 0x08);
    outb(&f, 0x21, 0x00);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x23);
    eoi_master(&f);
    /* IRQ15: the master took IR2 (ISR2 set), the slave has nothing. */
    set(&f, 10, 1);
    set(&f, 10, 0);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2f);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x04);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    eoi_master(&f);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    /* Same with an edge request masked at the slave. */
    pulse(&f, 9);
    outb(&f, 0xa1, 0x02);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2f);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x04);
    teardown(&f);
}

static void test_cascade_vectors(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    for (int n = 8; n < 16; n++) {
        pulse(&f, n);
        CU_ASSERT_TRUE(pic_intr_pending(f.p));
        CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x28 + n - 8);
        CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0x04);
        CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 1u << (n - 8));
        eoi_both(&f);
        CU_ASSERT_FALSE(pic_intr_pending(f.p));
    }
    unsigned irr, isr, imr;
    pic_get_regs(f.p, 1, &irr, &isr, &imr);
    CU_ASSERT_EQUAL(irr | isr | imr, 0);
    /* Slave priority inside IR2: 8 before 15. */
    pulse(&f, 15); pulse(&f, 8);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x28);
    eoi_both(&f);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2f);
    teardown(&f);
}

static void test_special_fully_nested(void)
{
    struct fix f;
    setup(&f);
    init_pc(&f, 0x20, 0x28, 0x11, 0x01);
    pulse(&f, 11);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2b);
    pulse(&f, 9);                /* higher slave level passes IR2 in service */
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x29);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0x0a);
    pulse(&f, 12);               /* lower slave level still waits */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    pulse(&f, 4);                /* so does a lower master level */
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    /* Plain fully nested mode: IR2 in service blocks the slave. */
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    pulse(&f, 11);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2b);
    pulse(&f, 9);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    eoi_master(&f);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x29);
    teardown(&f);
}

static void test_hostile_irq_numbers(void)
{
    struct fix f;
    setup(&f);
    static const int bad[] = { -1, 16, 17, 1000, INT_MIN, INT_MAX, 2 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pic_set_irq(f.p, bad[i], 1);
        pic_set_irq(f.p, bad[i], 0);
        pic_set_irq(f.p, bad[i], -7);
    }
    pic_set_irq(NULL, 3, 1);
    unsigned irr, isr, imr;
    for (int chip = 0; chip < 2; chip++) {
        pic_get_regs(f.p, chip, &irr, &isr, &imr);
        CU_ASSERT_EQUAL(irr | isr | imr, 0);
    }
    CU_ASSERT_FALSE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(f.cb_calls, 0);
    irr = isr = imr = 99;
    pic_get_regs(f.p, 2, &irr, &isr, &imr);
    CU_ASSERT_EQUAL(irr + isr + imr, 0);
    pic_get_regs(f.p, -1, NULL, NULL, NULL);
    /* Any non-zero level counts as high. */
    pic_set_irq(f.p, 3, 42);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x0b);
    teardown(&f);
}

static void test_garbage_writes(void)
{
    struct fix f;
    setup(&f);
    static const unsigned ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    for (unsigned v = 0; v < 256; v++) {
        for (unsigned i = 0; i < 6; i++) {
            outb(&f, ports[(i + v) % 6], v * 37 + i);
            (void)inb(&f, ports[(i * 5 + v) % 6]);
        }
        pulse(&f, (int)(v % 16));
        if (pic_intr_pending(f.p))
            (void)pic_acknowledge(f.p);
    }
    iobus_write(&f.bus, 0x20, 4, 0xffffffff);
    (void)iobus_read(&f.bus, 0xa0, 4);
    /* A proper init afterwards gives a working pair again. */
    outb(&f, 0x4d0, 0); outb(&f, 0x4d1, 0);
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    for (int n = 0; n < 16; n++)
        set(&f, n, 0);
    CU_ASSERT_EQUAL(read_isr(&f, 0x20), 0);
    pulse(&f, 1);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x21);
    eoi_master(&f);
    pulse(&f, 13);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x2d);
    teardown(&f);
}

static void test_icw_sequence_interrupted(void)
{
    struct fix f;
    setup(&f);
    pulse(&f, 1);
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    outb(&f, 0x20, 0x11);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));      /* ICW1 drops requests */
    outb(&f, 0x21, 0x40);        /* ICW2 ... then ICW1 again: restart */
    outb(&f, 0x20, 0x11);
    outb(&f, 0x20, 0x0b);        /* OCW3 mid-sequence does not end it */
    outb(&f, 0x21, 0x20);        /* ICW2 */
    pulse(&f, 1);
    CU_ASSERT_FALSE(pic_intr_pending(f.p));      /* not before ICW4 */
    outb(&f, 0x21, 0x04);        /* ICW3 */
    outb(&f, 0x21, 0x01);        /* ICW4 */
    CU_ASSERT_TRUE(pic_intr_pending(f.p));
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0);
    outb(&f, 0x21, 0x10);        /* now OCW1 */
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0x10);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x21);
    outb(&f, 0x20, 0x20);
    /* No ICW4 (IC4=0), cascade: ICW2, ICW3, then OCW1. */
    outb(&f, 0x20, 0x10);
    outb(&f, 0x21, 0x50);
    outb(&f, 0x21, 0x04);
    outb(&f, 0x21, 0xf0);
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0xf0);
    pulse(&f, 3);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x53);
    /* Single mode: no ICW3; IR2 becomes an ordinary input. */
    outb(&f, 0x20, 0x13);
    outb(&f, 0x21, 0x60);
    outb(&f, 0x21, 0x01);        /* ICW4 */
    outb(&f, 0x21, 0x01);        /* OCW1 */
    CU_ASSERT_EQUAL(inb(&f, 0x21), 0x01);
    pulse(&f, 9);                /* slave still at its reset programming */
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0x62);
    CU_ASSERT_EQUAL(read_isr(&f, 0xa0), 0);
    /* Slave given a wrong ID: nobody drives the data bus. */
    init_pc(&f, 0x20, 0x28, 0x01, 0x01);
    outb(&f, 0xa0, 0x11); outb(&f, 0xa1, 0x28); outb(&f, 0xa1, 0x05); outb(&f, 0xa1, 0x01);
    pulse(&f, 10);
    CU_ASSERT_EQUAL(pic_acknowledge(f.p), 0xff);
    teardown(&f);
}

void suite_pic(void)
{
    CU_pSuite s = CU_add_suite("pic", NULL, NULL);
    CU_add_test(s, "reset state", test_reset_state);
    CU_add_test(s, "SeaBIOS and Linux init", test_bios_and_linux_init);
    CU_add_test(s, "priority and nesting", test_priority_and_nesting);
    CU_add_test(s, "masking and INTR callback", test_masking_and_callback);
    CU_add_test(s, "auto-EOI", test_auto_eoi);
    CU_add_test(s, "rotation", test_rotation);
    CU_add_test(s, "rotate on specific EOI", test_rotate_specific);
    CU_add_test(s, "special mask mode", test_special_mask_mode);
    CU_add_test(s, "poll and IRR/ISR read-back", test_poll_and_readback);
    CU_add_test(s, "ELCR level inputs", test_elcr_level);
    CU_add_test(s, "ICW1 LTIM", test_icw1_ltim);
    CU_add_test(s, "edge re-trigger", test_edge_retrigger);
    CU_add_test(s, "spurious IRQ7 and IRQ15", test_spurious);
    CU_add_test(s, "cascade vectors", test_cascade_vectors);
    CU_add_test(s, "special fully nested mode", test_special_fully_nested);
    CU_add_test(s, "hostile IRQ numbers", test_hostile_irq_numbers);
    CU_add_test(s, "garbage port writes", test_garbage_writes);
    CU_add_test(s, "ICW sequence interrupted", test_icw_sequence_interrupted);
}
