mpc.version = '2';
mpc.baseMVA = 10;
mpc.bus = [1 3 0 0 0 0 1 1 0 11 1 1.1 0.9]';
mpc.bus = mpc.bus';
