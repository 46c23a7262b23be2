/* The STM32F7 family's limits for stm32_common.h (RM0385: SYSCLK at most 216 MHz with over-drive,
 * APB1 54 MHz, APB2 108 MHz, up to 15 flash wait states; eight U(S)ARTs), then the shared
 * RCC, GPIO and clock-tree code. Included by the F7 driver (stm32f7.c) and by the set-up of an F7
 * board's external memory (external/stm32f7_qspi.c), which share the board's [bsp] defines. */
#ifndef EDGEXF_STM32F7_H
#define EDGEXF_STM32F7_H

#define STM32_SYSCLK_MAX_HZ 216000000u
#define STM32_APB1_MAX_HZ 54000000u
#define STM32_APB2_MAX_HZ 108000000u
#define STM32_FLASH_WS_MAX 15
#define STM32_UARTS 8
#include "stm32_common.h"

#endif /* EDGEXF_STM32F7_H */
