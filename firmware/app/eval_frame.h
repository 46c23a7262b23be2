/* Frames of the evaluation protocol (docs/eval_protocol.md), device side: a receiver fed one byte at
 * a time and a sender. The host side is edgexf/eval/protocol.py.
 *
 *   sync 0xAA 0x55 | type u8 | seq u8 | length u16 LE | payload | CRC-32 (zlib's) of type..payload, LE
 */
#ifndef EDGEXF_EVAL_FRAME_H
#define EDGEXF_EVAL_FRAME_H

#include <stdint.h>

#define EVAL_SYNC0 0xAAu
#define EVAL_SYNC1 0x55u
#define EVAL_MAX_PAYLOAD 1024u
#define EVAL_HEADER_BYTES 6u /* sync, type, seq, length */
#define EVAL_CRC_BYTES 4u

/* What eval_rx_byte says about the byte it was given. */
enum eval_rx_event {
    EVAL_RX_MORE = 0,     /* nothing yet */
    EVAL_RX_FRAME = 1,    /* a whole frame with a good CRC is in the receiver */
    EVAL_RX_BAD_CRC = 2,  /* a frame ended with a bad CRC: dropped (type and seq are as received) */
    EVAL_RX_TOO_LONG = 3, /* a header announced more than EVAL_MAX_PAYLOAD bytes: dropped */
};

typedef struct {
    uint8_t state;   /* where in a frame the next byte goes (eval_frame.c) */
    uint8_t type, seq;
    uint16_t length; /* payload bytes announced */
    uint16_t got;    /* payload or CRC bytes received so far */
    uint32_t crc;    /* running CRC of type..payload */
    uint32_t crc_received;
    uint8_t payload[EVAL_MAX_PAYLOAD];
} eval_rx_t;

uint32_t eval_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n); /* start and end with ~0 xor */
uint32_t eval_crc32(const uint8_t *p, uint32_t n);                     /* zlib.crc32(p) */

/* Feeds one received byte. After EVAL_RX_FRAME, rx->type, seq, length and payload hold the frame
 * until the next call; after any event the receiver looks for a new sync. */
int eval_rx_byte(eval_rx_t *rx, uint8_t byte);

/* Sends one frame whose payload is head then body (either may be empty), through bsp_uart_write. */
void eval_send(uint8_t type, uint8_t seq, const void *head, uint32_t head_len, const void *body, uint32_t body_len);

#endif /* EDGEXF_EVAL_FRAME_H */
