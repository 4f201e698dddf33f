function mpc = t
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
1 3 0 0 0 0 1 1 0 135 1 1.1 0.9;
2 1 0 0 0