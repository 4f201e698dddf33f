mpc.baseMVA = -5;
mpc.bus = [1 3 0 0 0 0 1 NaN 0 1 1 1 1];
mpc.gen=[];mpc.branch=[];
