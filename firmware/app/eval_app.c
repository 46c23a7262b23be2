/* The evaluation firmware: serves docs/eval_protocol.md's requests over the board's UART, forever.
 *
 *   HELLO, DEVICE_INFO, MODEL_INFO           who is there, on what, with which model (eval_info.h)
 *   WRITE_INPUT ... RUN ... READ_OUTPUT      one inference, timed with bsp_counter()
 *
 * Every request gets one response with the request's seq: its answer or an ERROR naming the
 * problem. A fault is reported as a LOG frame (startup.c calls startup_fault below); the emulated
 * build then also exits QEMU through semihosting with platform.h's code, the board build stops.
 * No printf, no malloc: the one frame buffer is static.
 */
#include <stdint.h>
#include <string.h>

#include "bsp.h"
#include "eval_frame.h"
#include "eval_info.h" /* written by edgexf/eval/build.py: EVAL_BOARD_NAME, EVAL_MODEL_INFO_JSON */
#include "log_num.h"   /* fmt_i64 only */
#include "app_model.h" /* model.h, or a prefixed model's header */
#include "startup.h"
#ifdef EDGEXF_EMULATED
#include "semihost.h"
#endif

#ifndef EDGEXF_EVAL_PROTOCOL_VERSION
#define EDGEXF_EVAL_PROTOCOL_VERSION 1 /* a test builds firmware that speaks another */
#endif

enum {
    REQ_HELLO = 0x01,
    REQ_DEVICE_INFO = 0x02,
    REQ_MODEL_INFO = 0x03,
    REQ_WRITE_INPUT = 0x04,
    REQ_RUN = 0x05,
    REQ_READ_OUTPUT = 0x06,
    RESPONSE = 0x80, /* a response's type: the request's | RESPONSE */
    MSG_LOG = 0xFE,
    MSG_ERROR = 0xFF,
};

enum { ERR_BAD_CRC = 1, ERR_TOO_LONG = 2, ERR_UNKNOWN_TYPE = 3, ERR_BAD_ARGUMENT = 4, ERR_BAD_SIZE = 5 };

#define WRITE_HEADER_BYTES 5u /* WRITE_INPUT: u8 index, u32 offset */
#define READ_REQUEST_BYTES 7u /* READ_OUTPUT: u8 index, u32 offset, u16 length */

static eval_rx_t rx; /* the frame being received; its payload is the request's */

/* ---- little-endian fields ---------------------------------------------------------------------- */
static void put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, v);
    put_u16(p + 2, v >> 16);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- ERROR frames: a code and a message built in pieces ---------------------------------------- */
typedef struct {
    char text[160];
    uint32_t n;
} message_t;

static void say(message_t *m, const char *s)
{
    while (*s && m->n < sizeof m->text) {
        m->text[m->n++] = *s++;
    }
}

static void say_num(message_t *m, int64_t v)
{
    char buf[21];
    say(m, fmt_i64(buf, v));
}

static void say_hex8(message_t *m, uint32_t v)
{
    const char digits[] = "0123456789abcdef";
    const char hex[5] = {'0', 'x', digits[(v >> 4) & 0xFu], digits[v & 0xFu], '\0'};
    say(m, hex);
}

/* Ends a NUL-terminated string (in the last byte, if the text has filled the buffer). */
static void end_string(message_t *m)
{
    if (m->n == sizeof m->text) {
        m->n--;
    }
    m->text[m->n++] = '\0';
}

static void send_error(uint8_t seq, uint32_t code, const message_t *m)
{
    uint8_t head[2];
    put_u16(head, code);
    eval_send(MSG_ERROR, seq, head, sizeof head, m->text, m->n);
}

/* "<REQUEST> takes <what>; got N bytes" */
static void bad_size(uint8_t seq, const char *request, const char *what, uint32_t got)
{
    message_t m = {.n = 0};
    say(&m, request);
    say(&m, " takes ");
    say(&m, what);
    say(&m, "; got ");
    say_num(&m, got);
    say(&m, " bytes");
    send_error(seq, ERR_BAD_SIZE, &m);
}

/* 1 when the request has no payload, as it should; else ERROR 5 and 0. */
static int empty(const eval_rx_t *f, const char *request)
{
    if (f->length != 0) {
        bad_size(f->seq, request, "no payload", f->length);
    }
    return f->length == 0;
}

/* Checks tensor `index` of `count` and the byte range [offset, offset + n) in it; ERROR 4 if not. */
static int check_range(uint8_t seq, const char *kind, const edgexf_tensor_info_t *info, int32_t count,
                       uint32_t index, uint32_t offset, uint32_t n)
{
    message_t m = {.n = 0};
    say(&m, kind);
    say(&m, " ");
    say_num(&m, index);
    if (index >= (uint32_t)count) {
        say(&m, " is out of range: the model has ");
        say_num(&m, count);
        say(&m, " ");
        say(&m, kind);
        say(&m, count == 1 ? "" : "s");
    } else if (offset > info[index].bytes || n > info[index].bytes - offset) {
        say(&m, " (");
        say(&m, info[index].name);
        say(&m, ") has ");
        say_num(&m, info[index].bytes);
        say(&m, " bytes: ");
        say_num(&m, n);
        say(&m, " at offset ");
        say_num(&m, offset);
        say(&m, " are outside it");
    } else {
        return 0;
    }
    send_error(seq, ERR_BAD_ARGUMENT, &m);
    return -1;
}

/* ---- requests ---------------------------------------------------------------------------------- */
static void hello(uint8_t seq)
{
    uint8_t p[10] = {'E', 'D', 'G', 'E', 'X', 'F'};
    put_u16(p + 6, EDGEXF_EVAL_PROTOCOL_VERSION);
    put_u16(p + 8, EVAL_MAX_PAYLOAD);
    eval_send(REQ_HELLO | RESPONSE, seq, p, sizeof p, 0, 0);
}

static void device_info(uint8_t seq)
{
    bsp_info_t info;
    bsp_info(&info);
#ifdef EDGEXF_EMULATED
    info.flags |= BSP_FLAG_EMULATED;
#endif
    uint8_t head[16] = {0};
    put_u32(head, info.cpuid);
    put_u32(head + 4, info.clock_hz);
    head[8] = info.flags;
    head[9] = info.counter_kind;
    put_u32(head + 12, info.counter_hz); /* bytes 10, 11: reserved, 0 */
    message_t names = {.n = 0};          /* board name, NUL, note, NUL */
    say(&names, EVAL_BOARD_NAME);
    end_string(&names);
    say(&names, info.note);
    end_string(&names);
    eval_send(REQ_DEVICE_INFO | RESPONSE, seq, head, sizeof head, names.text, names.n);
}

static void model_info(uint8_t seq)
{
    static const char json[] = EVAL_MODEL_INFO_JSON;
    eval_send(REQ_MODEL_INFO | RESPONSE, seq, json, sizeof json - 1, 0, 0);
}

static void write_input(uint8_t seq, const uint8_t *p, uint32_t n)
{
    if (n <= WRITE_HEADER_BYTES) {
        bad_size(seq, "WRITE_INPUT", "an input index (1 byte), an offset (4) and 1 to 1019 bytes of data", n);
        return;
    }
    const uint32_t index = p[0], offset = get_u32(p + 1), bytes = n - WRITE_HEADER_BYTES;
    if (check_range(seq, "input", edgexf_input_info, EDGEXF_NUM_INPUTS, index, offset, bytes) != 0) {
        return;
    }
    memcpy((uint8_t *)edgexf_input((int32_t)index) + offset, p + WRITE_HEADER_BYTES, bytes);
    eval_send(REQ_WRITE_INPUT | RESPONSE, seq, 0, 0, 0, 0);
}

static void run(uint8_t seq)
{
    bsp_counter_restart(); /* the same tick phase for every run: equal runs count equal ticks */
    const uint64_t t0 = bsp_counter();
    const int32_t status = edgexf_run();
    const uint64_t ticks = bsp_counter() - t0;
    uint8_t p[12];
    put_u32(p, (uint32_t)status);
    put_u32(p + 4, (uint32_t)ticks);
    put_u32(p + 8, (uint32_t)(ticks >> 32));
    eval_send(REQ_RUN | RESPONSE, seq, p, sizeof p, 0, 0);
}

static void read_output(uint8_t seq, const uint8_t *p, uint32_t n)
{
    if (n != READ_REQUEST_BYTES) {
        bad_size(seq, "READ_OUTPUT", "an output index (1 byte), an offset (4) and a length (2): 7 bytes", n);
        return;
    }
    const uint32_t index = p[0], offset = get_u32(p + 1), length = (uint32_t)p[5] | (uint32_t)p[6] << 8;
    if (length == 0 || length > EVAL_MAX_PAYLOAD) {
        message_t m = {.n = 0};
        say(&m, "READ_OUTPUT length ");
        say_num(&m, length);
        say(&m, " is not 1 to 1024");
        send_error(seq, ERR_BAD_ARGUMENT, &m);
        return;
    }
    if (check_range(seq, "output", edgexf_output_info, EDGEXF_NUM_OUTPUTS, index, offset, length) != 0) {
        return;
    }
    eval_send(REQ_READ_OUTPUT | RESPONSE, seq, (const uint8_t *)edgexf_output((int32_t)index) + offset, length, 0, 0);
}

static void serve(const eval_rx_t *f)
{
    const uint8_t *p = f->payload;
    const uint32_t n = f->length;
    switch (f->type) {
    case REQ_HELLO:
        if (empty(f, "HELLO")) {
            hello(f->seq);
        }
        break;
    case REQ_DEVICE_INFO:
        if (empty(f, "DEVICE_INFO")) {
            device_info(f->seq);
        }
        break;
    case REQ_MODEL_INFO:
        if (empty(f, "MODEL_INFO")) {
            model_info(f->seq);
        }
        break;
    case REQ_RUN:
        if (empty(f, "RUN")) {
            run(f->seq);
        }
        break;
    case REQ_WRITE_INPUT: write_input(f->seq, p, n); break;
    case REQ_READ_OUTPUT: read_output(f->seq, p, n); break;
    default: {
        message_t m = {.n = 0};
        say(&m, "unknown request type ");
        say_hex8(&m, f->type);
        say(&m, " (requests are 0x01 to 0x06)");
        send_error(f->seq, ERR_UNKNOWN_TYPE, &m);
    }
    }
}

/* Says it is ready, unasked (seq 0): a host that connected before can tell the firmware runs, and the
 * emulator knows its UART is on (QEMU's STM32 USART drops what arrives before; see emulator.py). */
static void announce(void)
{
    message_t m = {.n = 0};
    say(&m, "edgexf evaluation firmware ready: ");
    say(&m, EVAL_BOARD_NAME);
    say(&m, ", protocol ");
    say_num(&m, EDGEXF_EVAL_PROTOCOL_VERSION);
    eval_send(MSG_LOG, 0, m.text, m.n, 0, 0);
}

int main(void)
{
    bsp_init();
    edgexf_init();
    announce();
    for (;;) {
        const int32_t byte = bsp_uart_read();
        if (byte < 0) {
            continue;
        }
        const int event = eval_rx_byte(&rx, (uint8_t)byte);
        if (event == EVAL_RX_FRAME) {
            serve(&rx);
        } else if (event == EVAL_RX_BAD_CRC || event == EVAL_RX_TOO_LONG) {
            message_t m = {.n = 0};
            say(&m, event == EVAL_RX_BAD_CRC ? "bad CRC: dropped a frame of type " : "payload too long: dropped a frame of type ");
            say_hex8(&m, rx.type);
            say(&m, " announcing ");
            say_num(&m, rx.length);
            say(&m, " bytes");
            send_error(rx.seq, event == EVAL_RX_BAD_CRC ? ERR_BAD_CRC : ERR_TOO_LONG, &m);
        }
    }
}

/* ---- the start-up's hooks (startup.h) ----------------------------------------------------------- */
void startup_exit(int32_t code)
{
#ifdef EDGEXF_EMULATED
    semihost_exit(code);
#else
    (void)code; /* main never returns */
    for (;;) {
    }
#endif
}

void startup_fault(const char *report, int32_t code)
{
    eval_send(MSG_LOG, 0, report, (uint32_t)strlen(report), 0, 0);
#ifdef EDGEXF_EMULATED
    semihost_write0(report);
    semihost_exit(code); /* QEMU exits with the fault's code (platform.h) */
#else
    (void)code; /* stop answering until reset: the host has the report */
    for (;;) {
    }
#endif
}
