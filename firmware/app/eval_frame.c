/* Frames of the evaluation protocol: CRC-32, the byte-at-a-time receiver, the sender (eval_frame.h).
 *
 * The CRC is zlib's (reflected, polynomial 0xEDB88320) computed a nibble at a time from a 16-entry
 * table: 64 bytes of flash instead of 1 KB for a byte table, at about twice the work per byte, which
 * is nothing next to the UART (at 115200 baud a byte takes ~87 us, thousands of cycles).
 */
#include "eval_frame.h"

#include "bsp.h"

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t eval_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return crc;
}

uint32_t eval_crc32(const uint8_t *p, uint32_t n) { return ~eval_crc32_update(0xFFFFFFFFu, p, n); }

/* ---- receiver ---------------------------------------------------------------------------------- */
enum { WANT_SYNC0, WANT_SYNC1, WANT_TYPE, WANT_SEQ, WANT_LEN0, WANT_LEN1, WANT_PAYLOAD, WANT_CRC };

static void crc_byte(eval_rx_t *rx, uint8_t byte) { rx->crc = eval_crc32_update(rx->crc, &byte, 1); }

int eval_rx_byte(eval_rx_t *rx, uint8_t byte)
{
    switch (rx->state) {
    case WANT_SYNC0:
        rx->state = byte == EVAL_SYNC0 ? WANT_SYNC1 : WANT_SYNC0;
        return EVAL_RX_MORE;
    case WANT_SYNC1: /* 0xAA 0xAA 0x55: the second 0xAA may start the sync */
        rx->state = byte == EVAL_SYNC1 ? WANT_TYPE : byte == EVAL_SYNC0 ? WANT_SYNC1 : WANT_SYNC0;
        rx->crc = 0xFFFFFFFFu;
        return EVAL_RX_MORE;
    case WANT_TYPE:
        rx->type = byte;
        crc_byte(rx, byte);
        rx->state = WANT_SEQ;
        return EVAL_RX_MORE;
    case WANT_SEQ:
        rx->seq = byte;
        crc_byte(rx, byte);
        rx->state = WANT_LEN0;
        return EVAL_RX_MORE;
    case WANT_LEN0:
        rx->length = byte;
        crc_byte(rx, byte);
        rx->state = WANT_LEN1;
        return EVAL_RX_MORE;
    case WANT_LEN1:
        rx->length = (uint16_t)(rx->length | (uint16_t)byte << 8);
        crc_byte(rx, byte);
        rx->got = 0;
        rx->crc_received = 0;
        if (rx->length > EVAL_MAX_PAYLOAD) {
            rx->state = WANT_SYNC0;
            return EVAL_RX_TOO_LONG;
        }
        rx->state = rx->length > 0 ? WANT_PAYLOAD : WANT_CRC;
        return EVAL_RX_MORE;
    case WANT_PAYLOAD:
        rx->payload[rx->got++] = byte;
        crc_byte(rx, byte);
        if (rx->got == rx->length) {
            rx->got = 0;
            rx->state = WANT_CRC;
        }
        return EVAL_RX_MORE;
    case WANT_CRC:
        rx->crc_received |= (uint32_t)byte << (8u * rx->got++);
        if (rx->got < EVAL_CRC_BYTES) {
            return EVAL_RX_MORE;
        }
        rx->state = WANT_SYNC0;
        return rx->crc_received == ~rx->crc ? EVAL_RX_FRAME : EVAL_RX_BAD_CRC;
    default:
        rx->state = WANT_SYNC0;
        return EVAL_RX_MORE;
    }
}

/* ---- sender ------------------------------------------------------------------------------------ */
void eval_send(uint8_t type, uint8_t seq, const void *head, uint32_t head_len, const void *body, uint32_t body_len)
{
    if (head_len > EVAL_MAX_PAYLOAD) {
        head_len = EVAL_MAX_PAYLOAD;
    }
    if (body_len > EVAL_MAX_PAYLOAD - head_len) { /* callers keep within a frame; never send a bad one */
        body_len = EVAL_MAX_PAYLOAD - head_len;
    }
    const uint32_t length = head_len + body_len;
    const uint8_t header[EVAL_HEADER_BYTES] = {
        EVAL_SYNC0, EVAL_SYNC1, type, seq, (uint8_t)length, (uint8_t)(length >> 8),
    };
    uint32_t crc = eval_crc32_update(0xFFFFFFFFu, header + 2, EVAL_HEADER_BYTES - 2);
    crc = ~eval_crc32_update(eval_crc32_update(crc, head, head_len), body, body_len);
    const uint8_t tail[EVAL_CRC_BYTES] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
    bsp_uart_write(header, EVAL_HEADER_BYTES);
    bsp_uart_write(head, head_len);
    bsp_uart_write(body, body_len);
    bsp_uart_write(tail, EVAL_CRC_BYTES);
}
