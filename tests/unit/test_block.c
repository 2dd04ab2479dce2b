/* Block layer: raw image open errors, asynchronous read/write/flush on a
 * temporary file through a real aio queue, read-only refusal, the memory
 * backend. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/block/block.h"

struct result {
    int calls;
    int ret;
};

static void on_done(struct block_req *r, int ret)
{
    struct result *res = r->opaque;
    res->calls++;
    res->ret = ret;
}

static char *temp_file(size_t size, uint8_t fill)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/minus1-blk-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    uint8_t *buf = malloc(size ? size : 1);
    memset(buf, fill, size);
    CU_ASSERT_EQUAL(write(fd, buf, size), (ssize_t)size);
    free(buf);
    close(fd);
    return path;
}

static void test_open_errors(void)
{
    char err[256] = "";
    CU_ASSERT_PTR_NULL(block_open_raw("/nonexistent/disk.img", 0, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/disk.img"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));

    char *p = temp_file(0, 0);
    CU_ASSERT_PTR_NULL(block_open_raw(p, BLOCK_RDONLY, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
    unlink(p);

    p = temp_file(1000, 0);
    CU_ASSERT_PTR_NULL(block_open_raw(p, 0, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "multiple of 512"));
    unlink(p);

    p = temp_file(3 * 512, 0);          /* fine for a disk, not for an ISO */
    struct block_backend *bb = block_open_raw(p, 0, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL(bb);
    CU_ASSERT_EQUAL(block_size(bb), 3 * 512);
    CU_ASSERT_FALSE(block_readonly(bb));
    CU_ASSERT_STRING_EQUAL(block_format(bb), "raw");
    block_close(bb);
    CU_ASSERT_PTR_NULL(block_open_raw(p, BLOCK_CDROM | BLOCK_RDONLY, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "multiple of 2048"));
    unlink(p);

    CU_ASSERT_PTR_NULL(block_open_raw("/tmp", BLOCK_RDONLY, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "directory"));
}

static void test_raw_rw_flush(void)
{
    char err[256];
    char *p = temp_file(8 * 512, 0x11);
    struct block_backend *bb = block_open_raw(p, 0, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    struct aio aio;
    CU_ASSERT_EQUAL_FATAL(aio_init(&aio, NULL, 2), 0);

    /* Scatter write: 3 host buffers covering 2 sectors at sector 3. */
    uint8_t a[100], b[412], c[512];
    memset(a, 0xA1, sizeof(a));
    memset(b, 0xB2, sizeof(b));
    memset(c, 0xC3, sizeof(c));
    struct iovec wv[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
    struct result res = { 0, 1 };
    struct block_req r = { .bb = bb, .op = BLOCK_WRITE, .offset = 3 * 512, .iov = wv,
                           .iovcnt = 3, .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), 0);
    CU_ASSERT_EQUAL(res.calls, 0);      /* completes only on the loop side */
    aio_drain(&aio);
    CU_ASSERT_EQUAL(res.calls, 1);
    CU_ASSERT_EQUAL(res.ret, 0);

    /* Gather read back across the boundary. */
    uint8_t x[700], y[324];
    struct iovec rv[2] = { { x, sizeof(x) }, { y, sizeof(y) } };
    r = (struct block_req){ .bb = bb, .op = BLOCK_READ, .offset = 3 * 512 - 512, .iov = rv,
                            .iovcnt = 2, .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), 0);
    aio_drain(&aio);
    CU_ASSERT_EQUAL(res.calls, 2);
    CU_ASSERT_EQUAL(res.ret, 0);
    CU_ASSERT_EQUAL(x[0], 0x11);
    CU_ASSERT_EQUAL(x[511], 0x11);
    CU_ASSERT_EQUAL(x[512], 0xA1);
    CU_ASSERT_EQUAL(x[612], 0xB2);
    CU_ASSERT_EQUAL(y[0], 0xB2);         /* file byte 1724: inside the second buffer */
    CU_ASSERT_EQUAL(y[323], 0xB2);       /* file byte 2047: its last byte */

    r = (struct block_req){ .bb = bb, .op = BLOCK_FLUSH, .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), 0);
    aio_drain(&aio);
    CU_ASSERT_EQUAL(res.calls, 3);
    CU_ASSERT_EQUAL(res.ret, 0);

    /* Outside the image: refused up front, done never runs. */
    r = (struct block_req){ .bb = bb, .op = BLOCK_READ, .offset = 7 * 512 + 1, .iov = rv,
                            .iovcnt = 1, .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), -EINVAL);
    r.offset = UINT64_MAX - 10;
    CU_ASSERT_EQUAL(block_submit(&aio, &r), -EINVAL);
    aio_drain(&aio);
    CU_ASSERT_EQUAL(res.calls, 3);
    aio_destroy(&aio);
    block_close(bb);

    /* The bytes are in the file. */
    FILE *f = fopen(p, "rb");
    uint8_t all[8 * 512];
    CU_ASSERT_EQUAL(fread(all, 1, sizeof(all), f), sizeof(all));
    fclose(f);
    CU_ASSERT_EQUAL(all[3 * 512 - 1], 0x11);
    CU_ASSERT_EQUAL(all[3 * 512], 0xA1);
    CU_ASSERT_EQUAL(all[3 * 512 + 100], 0xB2);
    CU_ASSERT_EQUAL(all[4 * 512], 0xC3);
    CU_ASSERT_EQUAL(all[5 * 512], 0x11);
    unlink(p);
}

static void test_readonly_and_mem(void)
{
    char err[256];
    char *p = temp_file(4 * 512, 0x22);
    struct block_backend *bb = block_open_raw(p, BLOCK_RDONLY, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(bb);
    CU_ASSERT_TRUE(block_readonly(bb));
    struct aio aio;
    CU_ASSERT_EQUAL_FATAL(aio_init(&aio, NULL, 1), 0);
    uint8_t buf[512];
    memset(buf, 0x99, sizeof(buf));
    struct iovec v = { buf, sizeof(buf) };
    struct result res = { 0, 1 };
    struct block_req r = { .bb = bb, .op = BLOCK_WRITE, .offset = 0, .iov = &v, .iovcnt = 1,
                           .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), -EROFS);
    CU_ASSERT_EQUAL(block_write_sync(bb, 0, buf, 512), -EROFS);
    CU_ASSERT_EQUAL(block_read_sync(bb, 512, buf, 512), 0);
    CU_ASSERT_EQUAL(buf[0], 0x22);
    block_close(bb);

    struct block_backend *m = block_open_mem(2048, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    memset(buf, 0x77, sizeof(buf));
    r = (struct block_req){ .bb = m, .op = BLOCK_WRITE, .offset = 1536, .iov = &v, .iovcnt = 1,
                            .done = on_done, .opaque = &res };
    CU_ASSERT_EQUAL(block_submit(&aio, &r), 0);
    aio_drain(&aio);
    CU_ASSERT_EQUAL(res.ret, 0);
    CU_ASSERT_EQUAL(block_mem_data(m)[2047], 0x77);
    CU_ASSERT_EQUAL(block_mem_data(m)[1535], 0);
    r.offset = 1537;                    /* one byte past the end */
    CU_ASSERT_EQUAL(block_submit(&aio, &r), -EINVAL);
    aio_destroy(&aio);
    block_close(m);
    block_close(NULL);
    unlink(p);
}

void suite_block(void)
{
    CU_pSuite s = CU_add_suite("block", NULL, NULL);
    CU_add_test(s, "raw open errors", test_open_errors);
    CU_add_test(s, "raw read/write/flush via aio", test_raw_rw_flush);
    CU_add_test(s, "read-only and memory backends", test_readonly_and_mem);
}
