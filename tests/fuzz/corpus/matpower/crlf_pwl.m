function mpc = pwl
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [1 3 0 0 0 0 1 1 0 1 1 1 1];
mpc.gen = [1 0 0 1 -1 1 100 1 5 0];
mpc.branch = [];
mpc.gencost = [1 0 0 3 0 0 1 10 5 60];
