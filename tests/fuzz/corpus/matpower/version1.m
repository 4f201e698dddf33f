function [baseMVA, bus, gen, branch] = old
baseMVA = 100;
