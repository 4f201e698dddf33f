mpc.vershon = '2';
mpc.baseMVA = 10;
mpc.bus = [1 2; 3 1; 0 5; 0 1; 0 0; 0 0; 1 1; 1 1; 0 0; 11 11; 1 1; 1.1 1.1; 0.9 0.9]';
mpc.gen = [];
mpc.branch = [2 2 0.1 0.2 0 0 0 0 0 0 1];
mpc.bus_name = {'a', 'b'}';
