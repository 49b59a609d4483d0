; SPDX-License-Identifier: MIT
;
; interp.asm: the guest of the KVM tests (tests/kvm). A 4 KiB ROM image
; mapped at 0xFFFFF000, so that its last 16 bytes hold the reset vector.
; From the reset state (real mode, CS base 0xFFFF0000, IP 0xFFF0) it loads
; a flat GDT, enters 32-bit protected mode (no paging, ring 0) and runs a
; script the host wrote into RAM at 0x1000, one 16-byte entry at a time:
;
;   +0  u8  op       see below
;   +1  u8  size     access size: 1, 2, 4 or 8 (8: MMX movq, memory only)
;   +2  u16 count    repetitions of the string ops
;   +4  u32 addr     guest-physical address, or the port
;   +8  u64 value    written by WRITE/OUT/OUTS; reads store their result
;                    here (the host reads it back from RAM)
;
;   0 YIELD  out 0xf0, value (1 byte): the host's control port stops the
;            vCPU; when run again the guest starts over at 0x1000
;   1 WRITE  mov [addr], value          2 READ  mov value, [addr]
;   3 OUT    out addr, value            4 IN    in value, addr
;   5 OUTS   rep outs, count units of size from the value field
;   6 INS    rep ins, count units of size into the value field
;   7 HLT    hlt (the host sees a HLT exit), then the next entry
;
; Guest ring-0 code is slow under a software KVM (every instruction is
; emulated), so this stays a handful of instructions per entry.
;
; Build (in this folder, for rom4k_tail.inc): nasm -f bin -o interp.bin interp.asm

%define ROMBASE   0xFFFFF000
%define SCRIPT    0x1000
%define CTL_PORT  0xf0
%define STACK_TOP 0x1000

        org ROMBASE
        bits 32

main:   mov esp, STACK_TOP
        mov esi, SCRIPT
next:   movzx eax, byte [esi]
        cmp eax, 7
        ja yield
        movzx ecx, byte [esi + 1]
        mov ebx, [esi + 4]
        mov edx, ebx
        jmp [optable + eax * 4]

optable: dd yield, write, read, out, in, outs, ins, halt

yield:  mov al, [esi + 8]
        out CTL_PORT, al
        jmp main

write:  cmp cl, 1
        jne .w2
        mov al, [esi + 8]
        mov [ebx], al
        jmp done
.w2:    cmp cl, 2
        jne .w4
        mov ax, [esi + 8]
        mov [ebx], ax
        jmp done
.w4:    cmp cl, 4
        jne .w8
        mov eax, [esi + 8]
        mov [ebx], eax
        jmp done
.w8:    movq mm0, [esi + 8]
        movq [ebx], mm0
        jmp done

read:   cmp cl, 1
        jne .r2
        mov al, [ebx]
        mov [esi + 8], al
        jmp done
.r2:    cmp cl, 2
        jne .r4
        mov ax, [ebx]
        mov [esi + 8], ax
        jmp done
.r4:    cmp cl, 4
        jne .r8
        mov eax, [ebx]
        mov [esi + 8], eax
        jmp done
.r8:    movq mm0, [ebx]
        movq [esi + 8], mm0
        jmp done

out:    cmp cl, 1
        jne .o2
        mov al, [esi + 8]
        out dx, al
        jmp done
.o2:    cmp cl, 2
        jne .o4
        mov ax, [esi + 8]
        out dx, ax
        jmp done
.o4:    mov eax, [esi + 8]
        out dx, eax
        jmp done

in:     cmp cl, 1
        jne .i2
        in al, dx
        mov [esi + 8], al
        jmp done
.i2:    cmp cl, 2
        jne .i4
        in ax, dx
        mov [esi + 8], ax
        jmp done
.i4:    in eax, dx
        mov [esi + 8], eax
        jmp done

outs:   mov ebp, esi
        movzx eax, cl
        movzx ecx, word [ebp + 2]
        lea esi, [ebp + 8]
        cmp al, 1
        jne .s2
        rep outsb
        jmp .sd
.s2:    cmp al, 2
        jne .s4
        rep outsw
        jmp .sd
.s4:    rep outsd
.sd:    mov esi, ebp
        jmp done

ins:    movzx eax, cl
        movzx ecx, word [esi + 2]
        lea edi, [esi + 8]
        cmp al, 1
        jne .n2
        rep insb
        jmp done
.n2:    cmp al, 2
        jne .n4
        rep insw
        jmp done
.n4:    rep insd

halt:   hlt

done:   add esi, 16
        jmp next

%include "rom4k_tail.inc"
