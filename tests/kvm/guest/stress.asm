; SPDX-License-Identifier: MIT
;
; stress.asm: the guest of the KVM stress test (tests/kvm/test_kvm_stress.c).
; A 4 KiB ROM mapped at 0xFFFFF000 (reset vector in its last 16 bytes),
; run by every vCPU at once. Each enters 32-bit protected mode (no paging,
; no stack), asks the host which vCPU it is, then loops until the host
; sets the stop flag in RAM, checking what it reads while the host remaps:
;
;   1. a dword of the RAM alias window at 0x100000: the window shows one
;      of two halves of a RAM region, so it reads PAT_A or PAT_B;
;   2. the dwords at MMIO_A and MMIO_B: a device that moves between the two
;      answers DEV_TAG, the background device under it BG_TAG;
;   3. a write to the device (or the background) at MMIO_A + 8;
;   4. its iteration count written to its own register of the sequence
;      device (SEQ + 8 * vCPU index): the host checks that each vCPU's
;      writes arrive once each, in order (the host may make that range
;      coalesced MMIO);
;   5. a RAM dword of its own scratch page, written then read back.
;
; Any other value is reported: out ERR_VAL (the value, 4 bytes), then
; out ERR_KIND (which check, 1 byte). Every 256 iterations it reports its
; count (out PROGRESS, 4 bytes); once stopped, out DONE with the count.
;
; Guest ring-0 code is emulated under kvm_pvm (about a million instructions
; a second), so the loop stays short.
;
; Build (in this folder, for rom4k_tail.inc): nasm -f bin -o stress.bin stress.asm

%define ROMBASE   0xFFFFF000
%define STOP      0x500             ; dword in RAM, set by the host
%define SCRATCH   0x2000            ; + 0x1000 * vCPU index
%define ALIAS     0x100000          ; 4 KiB RAM alias window
%define MMIO_A    0xD0000000
%define MMIO_B    0xD0001000
%define SEQ       0xD0002000
%define PAT_A     0xA1A1A1A1
%define PAT_B     0xB2B2B2B2
%define DEV_TAG   0xDE7A0001
%define BG_TAG    0x0B0B0B0B

%define ID_PORT   0xf0              ; in: the vCPU index
%define ERR_KIND  0xf1
%define PROGRESS  0xf4
%define DONE      0xf8
%define ERR_VAL   0xfc

        org ROMBASE
        bits 32

main:   in al, ID_PORT
        movzx edi, al
        lea esi, [SEQ + edi * 8]        ; esi: this vCPU's sequence register
        shl edi, 12
        add edi, SCRATCH                ; edi: this vCPU's scratch page
        xor ebx, ebx                    ; ebx: iterations

again:  cmp dword [STOP], 0
        jne finish
        mov ecx, ebx
        and ecx, 0x3ff                  ; ecx: dword index in a page

        mov eax, [ALIAS + ecx * 4]
        cmp eax, PAT_A
        je .alias_ok
        cmp eax, PAT_B
        je .alias_ok
        mov dl, 1
        jmp error
.alias_ok:
        mov eax, [MMIO_A]
        cmp eax, DEV_TAG
        je .a_ok
        cmp eax, BG_TAG
        je .a_ok
        mov dl, 2
        jmp error
.a_ok:  mov eax, [MMIO_B]
        cmp eax, DEV_TAG
        je .b_ok
        cmp eax, BG_TAG
        je .b_ok
        mov dl, 3
        jmp error
.b_ok:  mov [MMIO_A + 8], ebx
        mov [esi], ebx

        mov [edi + ecx * 4], ebx
        mov eax, [edi + ecx * 4]
        cmp eax, ebx
        je next
        mov dl, 4
        ; fall through

error:  out ERR_VAL, eax
        mov al, dl
        out ERR_KIND, al

next:   inc ebx
        test ebx, 0xff
        jnz again
        mov eax, ebx
        out PROGRESS, eax
        jmp again

finish: mov eax, ebx
        out DONE, eax
        hlt
        jmp finish

%include "rom4k_tail.inc"
